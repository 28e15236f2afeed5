/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic SCO ids and the cyber-observable validation rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"
#include "cairn/stix.h"

/*
 * SCOs whose "id" is the published deterministic id: examples of the STIX
 * 2.1 specification (section 6) whose ids check out with Python's
 * uuid.uuid5 over the RFC 8785 form of the id-contributing properties,
 * and the expected ids of the stix2 Python library's test suite
 * (test_deterministic_ids.py). Every one must also validate without a
 * single finding. (The specification's examples with references,
 * e.g. network-traffic--6e0cb830, were computed from other ids and do not
 * reproduce with any implementation, so they are not here.)
 */
static const char *const known[] = {
    "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--"
    "28bb3599-77cd-5a82-a950-b5bc3caf07c4\",\"value\":\"198.51.100.3\"}",
    "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--"
    "1ea47840-aa39-5aa8-b4a2-cd203eb6662a\",\"value\":\"198.51.100.0/24\"}",
    "{\"type\":\"ipv6-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv6-addr--"
    "85a85a8c-ee99-5722-946d-3c3a3270fc6f\",\"value\":\"2001:0db8:85a3:0000:"
    "0000:8a2e:0370:7334\"}",
    "{\"type\":\"ipv6-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv6-addr--"
    "084d3b4c-7785-568a-a569-0c61c95754ab\",\"value\":\"2001:0db8::/96\"}",
    "{\"type\":\"email-addr\",\"spec_version\":\"2.1\",\"id\":\"email-addr--"
    "7165e2a9-671f-585d-b1e1-ca59c671d934\",\"value\":\"john@example.com\","
    "\"display_name\":\"John Doe\"}",
    "{\"type\":\"email-addr\",\"spec_version\":\"2.1\",\"id\":\"email-addr--"
    "6deb37bd-12b7-54ae-805f-5f7146f3d171\",\"value\":\"jdoe@example.com\","
    "\"display_name\":\"John Doe\"}",
    "{\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":\"domain-name--"
    "bedb4899-d24b-5401-bc86-8f6b4cc18ec7\",\"value\":\"example.com\","
    "\"resolves_to_refs\":[\"ipv4-addr--28bb3599-77cd-5a82-a950-"
    "b5bc3caf07c4\"]}",
    "{\"type\":\"url\",\"spec_version\":\"2.1\",\"id\":\"url--47c3cf9a-5027-"
    "5bf0-997a-017c7edc7c55\",\"value\":\"https://example.com/research/"
    "index.html\"}",
    "{\"type\":\"mac-addr\",\"spec_version\":\"2.1\",\"id\":\"mac-addr--"
    "757b1725-9903-54f5-a855-1240691d7659\",\"value\":\"d2:fb:49:24:37:18\"}",
    "{\"type\":\"mutex\",\"spec_version\":\"2.1\",\"id\":\"mutex--f93fe911-"
    "e545-5239-b9b0-597840d0c871\",\"name\":\"__CLEANSWEEP__\"}",
    "{\"type\":\"autonomous-system\",\"spec_version\":\"2.1\",\"id\":"
    "\"autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff\",\"number\":"
    "15139,\"name\":\"Slime Industries\",\"rir\":\"ARIN\"}",
    "{\"type\":\"directory\",\"spec_version\":\"2.1\",\"id\":\"directory--"
    "0a58d0c1-59e6-5afd-8252-dcd3f13e5622\",\"path\":\"C:\\\\Windows\\\\"
    "System32\"}",
    "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--949eb97a-"
    "da1e-5292-8959-03c4249dc9f3\",\"hashes\":{\"SHA-256\":\"fe90a7e910cb3a47"
    "39bed9180e807e93fa70c90f25a8915476f5e4bfbac681db\"},\"size\":25536,"
    "\"name\":\"foo.dll\"}",
    /* a non-ASCII name: the canonical form is UTF-8, not \u escapes */
    "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--7d1e3a18-"
    "89e7-5bc5-be36-9879f5b7f5c8\",\"hashes\":{\"SHA-256\":\"841a8921140aba50"
    "671ebb0770fecc4ee308c4952cfeff8de154ab14eeef4649\"},\"name\":"
    "\"qu\xc3\xaary.dll\",\"name_enc\":\"windows-1252\"}",
    "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--70221dbf-"
    "52fd-5377-9619-c0ce6b3ffc8c\",\"hashes\":{\"SHA-256\":\"ceafbfd424be2ca4"
    "a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a\"}}",
    /* extensions contribute to a file's id */
    "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--ba04c974-"
    "3cef-5f42-adc7-084d467874e2\",\"hashes\":{\"SHA-256\":\"35a01331e9ad96f7"
    "51278b891b6ea09699806faedfa237d40513d92ad1b7100f\"},\"extensions\":{"
    "\"ntfs-ext\":{\"alternate_data_streams\":[{\"name\":\"second.stream\","
    "\"size\":25536}]}}}",
    "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--66772174-"
    "3442-5e0d-b577-4bd7be55fb87\",\"name\":\"picture.jpg\",\"hashes\":{"
    "\"SHA-256\":\"4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f53"
    "3924f877\"},\"extensions\":{\"raster-image-ext\":{\"exif_tags\":{"
    "\"Make\":\"Nikon\",\"Model\":\"D7000\",\"XResolution\":4928,"
    "\"YResolution\":3264}}}}",
    "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--965aa96f-"
    "d90a-506a-8317-d38d44b235f9\",\"name\":\"example.pdf\",\"extensions\":{"
    "\"pdf-ext\":{\"version\":\"1.7\",\"document_info_dict\":{\"Title\":"
    "\"Sample document\",\"Author\":\"Adobe Systems Incorporated\","
    "\"Creator\":\"Adobe FrameMaker 5.5.3 for Power Macintosh\",\"Producer\":"
    "\"Acrobat Distiller 3.01 for Power Macintosh\",\"CreationDate\":"
    "\"20070412090123-02\"},\"pdfid0\":\"DFCE52BD827ECF765649852119D\","
    "\"pdfid1\":\"57A1E0F9ED2AE523E313C\"}}}",
    "{\"type\":\"software\",\"spec_version\":\"2.1\",\"id\":\"software--"
    "710b0b41-d4d0-5d6c-a400-fc9254554ffc\",\"name\":\"Word\",\"cpe\":"
    "\"cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*\",\"version\":\"2002\","
    "\"vendor\":\"Microsoft\"}",
    "{\"type\":\"user-account\",\"spec_version\":\"2.1\",\"id\":"
    "\"user-account--f94d689e-707d-58c3-b803-c720bb6ed096\",\"user_id\":"
    "\"1001\",\"account_login\":\"jdoe\",\"account_type\":\"unix\","
    "\"display_name\":\"John Doe\",\"is_service_account\":false,"
    "\"is_privileged\":false,\"can_escalate_privs\":true,\"extensions\":{"
    "\"unix-account-ext\":{\"gid\":1001,\"groups\":[\"wheel\"],\"home_dir\":"
    "\"/home/jdoe\",\"shell\":\"/bin/bash\"}}}",
    "{\"type\":\"user-account\",\"spec_version\":\"2.1\",\"id\":"
    "\"user-account--f223e803-846b-591a-aefa-545e938f8a56\",\"user_id\":"
    "\"thegrugq_ebooks\",\"account_login\":\"thegrugq_ebooks\","
    "\"account_type\":\"twitter\",\"display_name\":\"the grugq\"}",
    "{\"type\":\"windows-registry-key\",\"spec_version\":\"2.1\",\"id\":"
    "\"windows-registry-key--1884b770-b679-522a-a9c7-45fadaaec7bb\",\"key\":"
    "\"HKEY_LOCAL_MACHINE\\\\System\\\\Foo\\\\Bar\"}",
    "{\"type\":\"windows-registry-key\",\"spec_version\":\"2.1\",\"id\":"
    "\"windows-registry-key--f6a11ddf-fa2b-54c8-97ab-e7f28413095a\",\"key\":"
    "\"hkey_local_machine\\\\system\\\\bar\\\\foo\",\"values\":[{\"name\":"
    "\"Foo\",\"data\":\"qwerty\",\"data_type\":\"REG_SZ\"},{\"name\":\"Bar\","
    "\"data\":\"42\",\"data_type\":\"REG_DWORD\"}]}",
    "{\"type\":\"x509-certificate\",\"spec_version\":\"2.1\",\"id\":"
    "\"x509-certificate--bf86f034-2390-54d7-8426-d08433db3fbe\",\"issuer\":"
    "\"C=ZA, ST=Western Cape, L=Cape Town, O=Thawte Consulting cc\","
    "\"validity_not_before\":\"2016-03-12T12:00:00Z\","
    "\"validity_not_after\":\"2016-08-21T12:00:00Z\",\"serial_number\":"
    "\"36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06\"}",
    /* stix2: test_id_gen_recursive_dict_conversion_1 (a float in an
     * extension: 7.980693 must print as ECMAScript prints it) */
    "{\"type\":\"file\",\"spec_version\":\"2.1\",\"id\":\"file--ced31cd4-"
    "bdcb-537d-aefa-92d291bfc11d\",\"name\":\"example.exe\",\"size\":68000,"
    "\"magic_number_hex\":\"50000000\",\"hashes\":{\"SHA-256\":\"841a8921140a"
    "ba50671ebb0770fecc4ee308c4952cfeff8de154ab14eeef4649\"},\"extensions\":{"
    "\"windows-pebinary-ext\":{\"pe_type\":\"exe\",\"machine_hex\":\"014c\","
    "\"sections\":[{\"name\":\".data\",\"size\":4096,\"entropy\":7.980693,"
    "\"hashes\":{\"SHA-256\":\"6e3b6f3978e5cd96ba7abee35c24e867b7e64072e2ecb2"
    "2d0ee7a6e6af6894d0\"}}]}}}",
    /* stix2: test_id_gen_recursive_dict_conversion_2 */
    "{\"type\":\"windows-registry-key\",\"spec_version\":\"2.1\",\"id\":"
    "\"windows-registry-key--36594eba-bcc7-5014-9835-0e154264e588\","
    "\"values\":[{\"name\":\"Foo\",\"data\":\"qwerty\"},{\"name\":\"Bar\","
    "\"data\":\"42\"}]}",
};

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (obj == NULL)
        fail_msg("bad test JSON at %d: %s: %s", err.position, err.text, text);
    return obj;
}

/* Findings of one validation. */
struct findings {
    size_t n;
    struct cairn_diag d[16];
};

static void collect(const struct cairn_diag *diag, void *ud)
{
    struct findings *f = ud;
    if (f->n < sizeof f->d / sizeof f->d[0])
        f->d[f->n] = *diag;
    f->n++;
}

static void validate(const json_t *obj, struct findings *f)
{
    struct cairn_validate_opts opts = {.cb = collect, .ud = f};
    struct cairn_validate_stats stats = {0};
    memset(f, 0, sizeof *f);
    cairn_stix_validate_object(obj, "", &opts, &stats);
}

static void print_findings(const struct findings *f)
{
    char line[1024];
    for (size_t i = 0; i < f->n && i < sizeof f->d / sizeof f->d[0]; i++) {
        cairn_diag_format(&f->d[i], line, sizeof line);
        print_message("  finding: %s\n", line);
    }
}

static void test_known_ids(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        json_t *obj = parse(known[i]);
        char id[CAIRN_STIX_ID_MAX];
        assert_int_equal(cairn_stix_sco_id(obj, id), 0);
        assert_string_equal(id, cairn_stix_id(obj));

        struct findings f;
        validate(obj, &f);
        if (f.n != 0) {
            print_findings(&f);
            fail_msg("%s: expected no findings", cairn_stix_id(obj));
        }
        json_decref(obj);
    }
}

/* The id of `text` (which has no "id"). */
static void id_of(const char *text, char out[CAIRN_STIX_ID_MAX])
{
    json_t *obj = parse(text);
    assert_int_equal(cairn_stix_sco_id(obj, out), 0);
    json_decref(obj);
}

static void test_hash_preference(void **state)
{
    (void)state;
    char md5[CAIRN_STIX_ID_MAX], both[CAIRN_STIX_ID_MAX];
    char sha256[CAIRN_STIX_ID_MAX], sha1[CAIRN_STIX_ID_MAX];
    char custom[CAIRN_STIX_ID_MAX];
    /* Python: uuid5(NS,
     * '{"hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"}}') */
    id_of("{\"type\":\"file\",\"hashes\":{\"MD5\":"
          "\"d41d8cd98f00b204e9800998ecf8427e\"}}",
          md5);
    assert_string_equal(md5, "file--02fff920-f614-527c-81d1-6353633a6d21");
    /* MD5 wins over SHA-256 whatever the order (sections 6.1, 6.7, 6.18) */
    id_of("{\"type\":\"file\",\"hashes\":{\"SHA-256\":\"ceafbfd424be2ca4a5f04"
          "02cae090dda2fb0526cf521b60b60077c0f622b285a\",\"MD5\":"
          "\"d41d8cd98f00b204e9800998ecf8427e\"}}",
          both);
    assert_string_equal(both, md5);
    id_of("{\"type\":\"file\",\"hashes\":{\"SHA-256\":\"ceafbfd424be2ca4a5f04"
          "02cae090dda2fb0526cf521b60b60077c0f622b285a\"}}",
          sha256);
    assert_string_equal(sha256, "file--70221dbf-52fd-5377-9619-c0ce6b3ffc8c");
    /* SHA-1 before SHA-256 */
    id_of("{\"type\":\"file\",\"hashes\":{\"SHA-256\":\"ceafbfd424be2ca4a5f04"
          "02cae090dda2fb0526cf521b60b60077c0f622b285a\",\"SHA-1\":"
          "\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"}}",
          both);
    id_of("{\"type\":\"file\",\"hashes\":{\"SHA-1\":"
          "\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"}}",
          sha1);
    assert_string_equal(both, sha1);
    /* beyond the list: the first hash as written (as stix2 does) */
    id_of("{\"type\":\"file\",\"hashes\":{\"x_custom\":\"abc\",\"SHA3-256\":"
          "\"a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434"
          "a\"}}",
          custom);
    id_of("{\"type\":\"file\",\"hashes\":{\"x_custom\":\"abc\"}}", both);
    assert_string_equal(custom, both);
}

static void test_contributing_only(void **state)
{
    (void)state;
    char a[CAIRN_STIX_ID_MAX], b[CAIRN_STIX_ID_MAX];
    /* display_name does not contribute, value does */
    id_of("{\"type\":\"email-addr\",\"value\":\"john@example.com\","
          "\"display_name\":\"Johnny Doe\"}",
          a);
    id_of("{\"type\":\"email-addr\",\"value\":\"john@example.com\","
          "\"display_name\":\"Janey Doe\"}",
          b);
    assert_string_equal(a, b);
    assert_string_equal(a, "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934");
    id_of("{\"type\":\"email-addr\",\"value\":\"jane@example.com\"}", b);
    assert_string_not_equal(a, b);
    /* the id and common properties do not contribute */
    id_of("{\"type\":\"url\",\"id\":\"url--5a5a0c57-8a4b-4b57-9a47-0a6e0f3f1c"
          "01\",\"defanged\":false,\"spec_version\":\"2.1\",\"value\":"
          "\"https://example.com/research/index.html\"}",
          a);
    assert_string_equal(a, "url--47c3cf9a-5027-5bf0-997a-017c7edc7c55");
}

/* Values the canonical form must escape, a value too long for the
 * stack buffer, and numbers; ids from Python (json.dumps with sorted keys
 * and no whitespace, then uuid.uuid5). */
static void test_canonical_forms(void **state)
{
    (void)state;
    static const char tricky[] = "q\"b\\s\n\t\b\f\r\x01\x1f\x7f\xc3\xa9"
                                 "\xe2\x80\xa8";
    char id[CAIRN_STIX_ID_MAX];
    char *long_name = malloc(400 * (sizeof tricky - 1) + 1);
    assert_non_null(long_name);
    for (size_t i = 0; i < 400; i++)
        memcpy(long_name + i * (sizeof tricky - 1), tricky, sizeof tricky);

    json_t *obj = json_pack("{s:s, s:s%}", "type", "mutex", "name", tricky,
                            sizeof tricky - 1);
    assert_int_equal(cairn_stix_sco_id(obj, id), 0);
    assert_string_equal(id, "mutex--3215031d-5e4d-5290-b69e-ab40902b66aa");
    json_decref(obj);

    obj = json_pack("{s:s, s:s}", "type", "mutex", "name", long_name);
    assert_int_equal(cairn_stix_sco_id(obj, id), 0);
    assert_string_equal(id, "mutex--2735a1f8-1831-5e28-a046-e741fcc69cde");
    json_decref(obj);
    free(long_name);

    id_of("{\"type\":\"autonomous-system\",\"number\":4294967295}", id);
    assert_string_equal(
        id, "autonomous-system--832cf849-1b9d-5272-8422-c9ed808c1e9a");
    id_of("{\"type\":\"network-traffic\",\"src_port\":0,\"dst_port\":65535,"
          "\"protocols\":[\"ipv4\",\"tcp\"],\"src_ref\":\"ipv4-addr--28bb3599-"
          "77cd-5a82-a950-b5bc3caf07c4\",\"start\":\"2020-12-13T00:00:00Z\","
          "\"end\":\"2020-12-13T00:00:01.5Z\",\"src_byte_count\":9}",
          id);
    assert_string_equal(
        id, "network-traffic--ac99a384-1b0b-57e0-bc67-044b4cacd278");
}

static int uuid_version(const char *id)
{
    const char *sep = strstr(id, "--");
    int version = -1;
    assert_non_null(sep);
    assert_true(cairn_uuid_check(sep + 2, strlen(sep + 2), true, &version));
    return version;
}

static void test_uuid4_fallback(void **state)
{
    (void)state;
    char a[CAIRN_STIX_ID_MAX], b[CAIRN_STIX_ID_MAX];
    /* "If the contributing properties are all optional, and none are
     * present on the SCO, then a UUIDv4 MUST be used." */
    id_of("{\"type\":\"email-message\",\"is_multipart\":false}", a);
    id_of("{\"type\":\"email-message\",\"is_multipart\":false}", b);
    assert_int_equal(uuid_version(a), 4);
    assert_int_equal(uuid_version(b), 4);
    assert_string_not_equal(a, b);
    assert_memory_equal(a, "email-message--", 15);
    /* process has no id-contributing properties at all */
    id_of("{\"type\":\"process\",\"pid\":1221}", a);
    assert_int_equal(uuid_version(a), 4);
    assert_memory_equal(a, "process--", 9);
    /* with one present it is a UUIDv5 */
    id_of("{\"type\":\"email-message\",\"is_multipart\":false,\"subject\":"
          "\"Saying Hello\"}",
          a);
    assert_int_equal(uuid_version(a), 5);
}

static void test_not_an_sco(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{\"type\":\"indicator\",\"value\":\"x\"}",
        "{\"type\":\"x-custom-observable\",\"value\":\"x\"}",
        "{\"value\":\"198.51.100.3\"}",
        "{\"type\":7}",
        "[\"ipv4-addr\"]",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_t *obj = parse(texts[i]);
        char id[CAIRN_STIX_ID_MAX] = "unchanged";
        assert_int_equal(cairn_stix_sco_id(obj, id), CAIRN_EINVAL);
        assert_string_equal(id, "");
        json_decref(obj);
    }
}

/* Every allocation of the computation failing in turn: an error, no
 * leak, and the right id once there is memory. */
static void test_out_of_memory(void **state)
{
    (void)state;
    json_t *obj = parse(known[15]); /* a file with an extension */
    int rc = CAIRN_ENOMEM;
    for (long n = 0; n < 200 && rc == CAIRN_ENOMEM; n++) {
        char id[CAIRN_STIX_ID_MAX];
        long live = cairn_alloc_live();
        cairn_alloc_fail_after(n);
        rc = cairn_stix_sco_id(obj, id);
        cairn_alloc_fail_after(-1);
        assert_int_equal(cairn_alloc_live(), live);
        if (rc == 0)
            assert_string_equal(id, cairn_stix_id(obj));
        else
            assert_int_equal(rc, CAIRN_ENOMEM);
    }
    assert_int_equal(rc, 0);
    json_decref(obj);
}

/*
 * Values the syntax rules must accept. Each object gets its
 * deterministic id and must then validate without any finding.
 */
static const char *const accepted[] = {
    "{\"type\":\"ipv4-addr\",\"value\":\"10.2.4.5/24\"}",
    "{\"type\":\"ipv4-addr\",\"value\":\"0.0.0.0/0\"}",
    "{\"type\":\"ipv4-addr\",\"value\":\"255.255.255.255\"}",
    "{\"type\":\"ipv6-addr\",\"value\":\"::ffff:192.0.2.1\"}",
    "{\"type\":\"ipv6-addr\",\"value\":\"fe80::1/64\"}",
    "{\"type\":\"ipv6-addr\",\"value\":\"::/0\"}",
    "{\"type\":\"domain-name\",\"value\":\"xn--bcher-kva.example\"}",
    "{\"type\":\"domain-name\",\"value\":\"b\xc3\xbc"
    "cher.example\"}",
    "{\"type\":\"domain-name\",\"value\":\"_dmarc.example.com\"}",
    "{\"type\":\"domain-name\",\"value\":\"example.com.\"}",
    "{\"type\":\"domain-name\",\"value\":\"localhost\"}",
    "{\"type\":\"domain-name\",\"value\":\"example[.]com\",\"defanged\":true}",
    "{\"type\":\"email-addr\",\"value\":\"\\\"john doe\\\"@example.com\"}",
    "{\"type\":\"email-addr\",\"value\":\"jane+tag@example.com\"}",
    "{\"type\":\"email-addr\",\"value\":\"user@[192.0.2.1]\"}",
    "{\"type\":\"url\",\"value\":\"mailto:jane@example.com\"}",
    "{\"type\":\"url\",\"value\":\"file:///etc/passwd\"}",
    "{\"type\":\"url\",\"value\":\"https://example.com/a%20b?q=1#top\"}",
    "{\"type\":\"url\",\"value\":\"hxxp://example[.]com/\",\"defanged\":true}",
    "{\"type\":\"mac-addr\",\"value\":\"00:00:ab:cd:ef:01\"}",
    "{\"type\":\"file\",\"name\":\"a.bin\",\"hashes\":{\"TLSH\":\"T1"
    "6E1A2B3C4D5E6F708192A3B4C5D6E7F80911223344556677889900AABBCCDDEEFF0011"
    "\"}}",
    "{\"type\":\"file\",\"name\":\"b.bin\",\"hashes\":{\"TLSH\":\""
    "6E1A2B3C4D5E6F708192A3B4C5D6E7F80911223344556677889900AABBCCDDEEFF0011"
    "\",\"SSDEEP\":\"96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcM"
    "SOOhJqRbXn:s4Ud1Lj96tHHlZDrwciQmA+4uy\"}}",
    "{\"type\":\"file\",\"name\":\"empty\",\"hashes\":{\"SSDEEP\":\"3::\"}}",
    "{\"type\":\"software\",\"name\":\"Word\",\"cpe\":\"cpe:2.3:a:micro\\\\:"
    "soft:word:2000:*:*:*:*:*:*:*\"}",
    "{\"type\":\"windows-registry-key\",\"key\":\"HKEY_CURRENT_USER\\\\"
    "Software\"}",
    "{\"type\":\"windows-registry-key\",\"key\":\"HKLMX\"}",
    "{\"type\":\"artifact\",\"mime_type\":\"application/zip\",\"payload_bin\":"
    "\"UEsDBAoAAAAAAA==\",\"encryption_algorithm\":\"mime-type-indicated\","
    "\"decryption_key\":\"My voice is my passport\"}",
    "{\"type\":\"artifact\",\"url\":\"https://example.com/s.zip\",\"hashes\":"
    "{\"MD5\":\"d41d8cd98f00b204e9800998ecf8427e\"},\"mime_type\":"
    "\"application/vnd.ms-excel\"}",
    "{\"type\":\"network-traffic\",\"src_ref\":\"ipv4-addr--28bb3599-77cd-"
    "5a82-a950-b5bc3caf07c4\",\"protocols\":[\"ipv4\",\"tcp\"],\"start\":"
    "\"2016-06-19T14:20:40Z\",\"end\":\"2016-06-19T14:20:40Z\","
    "\"is_active\":false,\"ipfix\":{\"minimumIpTotalLength\":32,\"name\":"
    "\"x\"},\"extensions\":{\"socket-ext\":{\"address_family\":\"AF_INET\","
    "\"options\":{\"SO_RCVBUF\":8192}},\"tcp-ext\":{\"src_flags_hex\":"
    "\"00000002\"}}}",
    "{\"type\":\"email-message\",\"is_multipart\":true,\"subject\":\"s\","
    "\"body_multipart\":[{\"body\":\"hi\"},{\"body_raw_ref\":\"artifact--"
    "6be1fbcb-fd03-5ec3-b05f-4329746e9d2b\"}],\"additional_header_fields\":"
    "{\"Reply-To\":[\"a@example.com\",\"b@example.com\"]}}",
    "{\"type\":\"file\",\"name\":\"dropper.exe\",\"contains_refs\":["
    "\"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4\",\"x-custom-obs--"
    "5a5a0c57-8a4b-4b57-9a47-0a6e0f3f1c01\"]}",
    "{\"type\":\"process\",\"extensions\":{\"windows-service-ext\":{"
    "\"service_name\":\"sirvizio\",\"start_type\":\"SERVICE_AUTO_START\"}}}",
};

static void test_accepted_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        json_t *obj = parse(accepted[i]);
        char id[CAIRN_STIX_ID_MAX];
        assert_int_equal(cairn_stix_sco_id(obj, id), 0);
        assert_int_equal(json_object_set_new(obj, "id", json_string(id)), 0);
        struct findings f;
        validate(obj, &f);
        if (f.n != 0) {
            print_findings(&f);
            fail_msg("%s: expected no findings", accepted[i]);
        }
        json_decref(obj);
    }
}

/*
 * One case per rule: an object (its id computed, so that only the rule
 * under test speaks) and the one finding it must produce.
 */
static const struct {
    const char *json;
    const char *rule;
    enum cairn_severity sev;
    const char *path;
} rejected[] = {
    {"{\"type\":\"artifact\",\"mime_type\":\"image/png\"}",
     "sco-artifact-content", CAIRN_SEV_ERROR, ""},
    {"{\"type\":\"artifact\",\"payload_bin\":\"aGk=\",\"url\":\"https://"
     "example.com/a\",\"hashes\":{\"MD5\":\"d41d8cd98f00b204e9800998ecf8427e"
     "\"}}",
     "sco-artifact-content", CAIRN_SEV_ERROR, ""},
    {"{\"type\":\"artifact\",\"url\":\"https://example.com/a\"}",
     "sco-artifact-hashes", CAIRN_SEV_ERROR, ""},
    {"{\"type\":\"artifact\",\"payload_bin\":\"aGk=\",\"decryption_key\":"
     "\"k\"}",
     "sco-artifact-decryption-key", CAIRN_SEV_ERROR, "decryption_key"},
    {"{\"type\":\"file\",\"name\":\"a\",\"mime_type\":\"zip\"}",
     "sco-mime-type", CAIRN_SEV_WARNING, "mime_type"},
    {"{\"type\":\"domain-name\",\"value\":\"a..example.com\"}",
     "sco-domain-name", CAIRN_SEV_ERROR, "value"},
    {"{\"type\":\"domain-name\",\"value\":\"198.51.100.3\"}", "sco-domain-name",
     CAIRN_SEV_ERROR, "value"},
    {"{\"type\":\"email-addr\",\"value\":\"John <john@example.com>\"}",
     "sco-email-addr", CAIRN_SEV_ERROR, "value"},
    {"{\"type\":\"email-message\",\"is_multipart\":true,\"body\":\"b\"}",
     "sco-email-body", CAIRN_SEV_ERROR, "body"},
    {"{\"type\":\"email-message\",\"is_multipart\":false,\"body_multipart\":"
     "[{\"body\":\"b\"}]}",
     "sco-email-body", CAIRN_SEV_ERROR, "body_multipart"},
    {"{\"type\":\"email-message\",\"is_multipart\":true,\"body_multipart\":"
     "[{\"content_type\":\"text/plain\"}]}",
     "required-property", CAIRN_SEV_ERROR, "body_multipart[0]"},
    {"{\"type\":\"email-message\",\"is_multipart\":false,"
     "\"additional_header_fields\":{\"X-A\":7}}",
     "sco-dict-value", CAIRN_SEV_ERROR, "additional_header_fields.X-A"},
    {"{\"type\":\"file\",\"size\":1}", "required-property", CAIRN_SEV_ERROR,
     ""},
    {"{\"type\":\"file\",\"name\":\"a\",\"hashes\":{\"SSDEEP\":\"x\"}}",
     "hash-value", CAIRN_SEV_ERROR, "hashes.SSDEEP"},
    {"{\"type\":\"file\",\"name\":\"a\",\"hashes\":{\"TLSH\":\"T1AB\"}}",
     "hash-value", CAIRN_SEV_ERROR, "hashes.TLSH"},
    {"{\"type\":\"file\",\"name\":\"a\",\"extensions\":{\"pdf-ext\":{"
     "\"x_a\":1}}}",
     "sco-at-least-one", CAIRN_SEV_ERROR, "extensions.pdf-ext"},
    {"{\"type\":\"file\",\"name\":\"a\",\"extensions\":{"
     "\"windows-pebinary-ext\":{\"pe_type\":\"dll\"}}}",
     "sco-at-least-one", CAIRN_SEV_ERROR, "extensions.windows-pebinary-ext"},
    {"{\"type\":\"file\",\"name\":\"a\",\"extensions\":{\"raster-image-ext\":"
     "{\"exif_tags\":{\"Make\":[1]}}}}",
     "sco-dict-value", CAIRN_SEV_ERROR,
     "extensions.raster-image-ext.exif_tags.Make"},
    {"{\"type\":\"file\",\"name\":\"a\",\"contains_refs\":[\"malware--"
     "5a5a0c57-8a4b-4b57-9a47-0a6e0f3f1c01\"]}",
     "reference-type", CAIRN_SEV_ERROR, "contains_refs[0]"},
    {"{\"type\":\"ipv4-addr\",\"value\":\"10.0.0.1/33\"}", "sco-ipv4-addr",
     CAIRN_SEV_ERROR, "value"},
    {"{\"type\":\"ipv6-addr\",\"value\":\"fe80::1%eth0\"}", "sco-ipv6-addr",
     CAIRN_SEV_ERROR, "value"},
    {"{\"type\":\"mac-addr\",\"value\":\"00:00:AB:CD:EF:01\"}", "sco-mac-addr",
     CAIRN_SEV_ERROR, "value"},
    {"{\"type\":\"network-traffic\",\"protocols\":[\"tcp\"]}",
     "required-property", CAIRN_SEV_ERROR, ""},
    {"{\"type\":\"network-traffic\",\"dst_ref\":\"ipv4-addr--28bb3599-77cd-"
     "5a82-a950-b5bc3caf07c4\",\"protocols\":[\"tcp\"],\"start\":"
     "\"2016-01-01T00:00:01Z\",\"end\":\"2016-01-01T00:00:00Z\"}",
     "time-order", CAIRN_SEV_ERROR, "end"},
    {"{\"type\":\"network-traffic\",\"dst_ref\":\"ipv4-addr--28bb3599-77cd-"
     "5a82-a950-b5bc3caf07c4\",\"protocols\":[\"tcp\"],\"is_active\":true,"
     "\"end\":\"2016-01-01T00:00:00Z\"}",
     "sco-traffic-active-end", CAIRN_SEV_ERROR, "end"},
    {"{\"type\":\"network-traffic\",\"dst_ref\":\"ipv4-addr--28bb3599-77cd-"
     "5a82-a950-b5bc3caf07c4\",\"protocols\":[\"tcp\"],\"extensions\":{"
     "\"tcp-ext\":{\"x_a\":1}}}",
     "sco-at-least-one", CAIRN_SEV_ERROR, "extensions.tcp-ext"},
    {"{\"type\":\"network-traffic\",\"dst_ref\":\"ipv4-addr--28bb3599-77cd-"
     "5a82-a950-b5bc3caf07c4\",\"protocols\":[\"tcp\"],\"extensions\":{"
     "\"socket-ext\":{\"address_family\":\"AF_INET\",\"socket_type\":"
     "\"SOCK_FOO\"}}}",
     "enumeration", CAIRN_SEV_ERROR, "extensions.socket-ext.socket_type"},
    {"{\"type\":\"process\"}", "sco-at-least-one", CAIRN_SEV_ERROR, ""},
    {"{\"type\":\"process\",\"extensions\":{\"windows-process-ext\":{"
     "\"priority\":\"high\"}}}",
     "sco-process-priority", CAIRN_SEV_WARNING,
     "extensions.windows-process-ext.priority"},
    {"{\"type\":\"process\",\"extensions\":{\"windows-service-ext\":{"
     "\"x_a\":1}}}",
     "sco-at-least-one", CAIRN_SEV_ERROR, "extensions.windows-service-ext"},
    {"{\"type\":\"software\",\"name\":\"w\",\"cpe\":\"cpe:/a:ms:word\"}",
     "sco-software-cpe", CAIRN_SEV_ERROR, "cpe"},
    {"{\"type\":\"url\",\"value\":\"example.com/index.html\"}", "sco-url-value",
     CAIRN_SEV_ERROR, "value"},
    {"{\"type\":\"url\",\"value\":\"https://\"}", "sco-url-value",
     CAIRN_SEV_ERROR, "value"},
    {"{\"type\":\"user-account\"}", "sco-at-least-one", CAIRN_SEV_ERROR, ""},
    {"{\"type\":\"user-account\",\"user_id\":\"1\",\"extensions\":{"
     "\"unix-account-ext\":{\"x_a\":1}}}",
     "sco-at-least-one", CAIRN_SEV_ERROR, "extensions.unix-account-ext"},
    {"{\"type\":\"windows-registry-key\"}", "sco-at-least-one", CAIRN_SEV_ERROR,
     ""},
    {"{\"type\":\"windows-registry-key\",\"key\":\"HKLM\\\\Software\"}",
     "sco-registry-hive", CAIRN_SEV_ERROR, "key"},
    {"{\"type\":\"windows-registry-key\",\"values\":[{\"data_type\":"
     "\"REG_FOO\"}]}",
     "enumeration", CAIRN_SEV_ERROR, "values[0].data_type"},
    {"{\"type\":\"x509-certificate\"}", "sco-at-least-one", CAIRN_SEV_ERROR,
     ""},
    {"{\"type\":\"x509-certificate\",\"serial_number\":\"1\","
     "\"x509_v3_extensions\":{\"x_a\":\"b\"}}",
     "sco-at-least-one", CAIRN_SEV_ERROR, "x509_v3_extensions"},
};

static void test_rejected_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        json_t *obj = parse(rejected[i].json);
        char id[CAIRN_STIX_ID_MAX];
        assert_int_equal(cairn_stix_sco_id(obj, id), 0);
        assert_int_equal(json_object_set_new(obj, "id", json_string(id)), 0);
        struct findings f;
        validate(obj, &f);
        if (f.n != 1 || strcmp(f.d[0].rule, rejected[i].rule) != 0 ||
            f.d[0].severity != rejected[i].sev ||
            strcmp(f.d[0].path, rejected[i].path) != 0 ||
            strcmp(f.d[0].object_id, id) != 0) {
            print_findings(&f);
            fail_msg("%s: expected exactly one %s [%s] at \"%s\"",
                     rejected[i].json,
                     rejected[i].sev == CAIRN_SEV_ERROR ? "error" : "warning",
                     rejected[i].rule, rejected[i].path);
        }
        json_decref(obj);
    }
}

/* The deterministic-id rules: a SHOULD, so warnings that name the id. */
static void test_id_rules(void **state)
{
    (void)state;
    struct findings f;
    /* the random id of the OASIS example infrastructure.json */
    json_t *obj = parse("{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\","
                        "\"id\":\"ipv4-addr--1e4ffad7-0b88-41d4-ba4d-"
                        "77d27490b956\",\"value\":\"198.51.100.3\"}");
    validate(obj, &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.d[0].rule, "sco-id-deterministic");
    assert_int_equal(f.d[0].severity, CAIRN_SEV_WARNING);
    assert_string_equal(f.d[0].path, "id");
    assert_non_null(strstr(f.d[0].message,
                           "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"));
    json_decref(obj);

    /* strict mode turns it into an error */
    obj = parse("{\"type\":\"mutex\",\"id\":\"mutex--5a5a0c57-8a4b-4b57-9a47-"
                "0a6e0f3f1c01\",\"name\":\"__CLEANSWEEP__\"}");
    struct cairn_validate_opts opts = {.strict = true, .cb = collect, .ud = &f};
    memset(&f, 0, sizeof f);
    assert_int_equal(cairn_stix_validate_object(obj, "", &opts, NULL),
                     CAIRN_EINVALID);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.d[0].rule, "sco-id-deterministic");
    assert_int_equal(f.d[0].severity, CAIRN_SEV_ERROR);
    json_decref(obj);

    /* no contributing property: a UUIDv5 is wrong, a UUIDv4 right */
    obj = parse("{\"type\":\"process\",\"id\":\"process--bfdf6c9a-a84b-5e26-"
                "8df4-4866bb117725\",\"pid\":1}");
    validate(obj, &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.d[0].rule, "sco-id-uuid4");
    assert_int_equal(f.d[0].severity, CAIRN_SEV_WARNING);
    json_decref(obj);
    obj = parse("{\"type\":\"email-message\",\"id\":\"email-message--"
                "f68c91da-8b42-5dfc-8264-6193bf9396a3\",\"is_multipart\":"
                "false}");
    validate(obj, &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.d[0].rule, "sco-id-uuid4");
    json_decref(obj);
    obj = parse("{\"type\":\"email-message\",\"id\":\"email-message--"
                "5a5a0c57-8a4b-4b57-9a47-0a6e0f3f1c01\",\"is_multipart\":"
                "false}");
    validate(obj, &f);
    assert_int_equal(f.n, 0);
    json_decref(obj);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_ids),
        cmocka_unit_test(test_hash_preference),
        cmocka_unit_test(test_contributing_only),
        cmocka_unit_test(test_canonical_forms),
        cmocka_unit_test(test_uuid4_fallback),
        cmocka_unit_test(test_not_an_sco),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_accepted_values),
        cmocka_unit_test(test_rejected_values),
        cmocka_unit_test(test_id_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
