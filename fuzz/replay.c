/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a fuzz target over every file of a corpus folder, without libFuzzer. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t alloc = 4096, len = 0;
    uint8_t *data = malloc(alloc);
    size_t n;
    while (data != NULL && (n = fread(data + len, 1, alloc - len, f)) > 0) {
        len += n;
        if (len == alloc) {
            uint8_t *bigger = realloc(data, alloc * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            alloc *= 2;
        }
    }
    fclose(f);
    if (data == NULL) {
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (dir == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    char **names = NULL;
    size_t count = 0, alloc = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (count == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            char **bigger = realloc(names, alloc * sizeof *names);
            if (bigger == NULL)
                return 2;
            names = bigger;
        }
        size_t need = strlen(argv[1]) + strlen(de->d_name) + 2;
        names[count] = malloc(need);
        if (names[count] == NULL)
            return 2;
        snprintf(names[count], need, "%s/%s", argv[1], de->d_name);
        count++;
    }
    closedir(dir);
    qsort(names, count, sizeof *names, compare_names);
    int failed = 0;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) &&
            run_file(names[i]) != 0)
            failed = 1;
        free(names[i]);
    }
    free(names);
    if (count == 0) {
        fprintf(stderr, "%s: empty corpus\n", argv[1]);
        return 1;
    }
    printf("replayed %zu inputs\n", count);
    return failed;
}
