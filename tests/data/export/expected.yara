import "pe"
// indicator--00000011-0000-4000-8000-000000000011: SUNBURST loader

private rule cairn_00000011000040008000000000000011_excluded { condition: filesize > 100MB }
rule cairn_00000011000040008000000000000011_sunburst : apt
{
    meta:
        description = "sunburst loader"
        excluded = "a meta key named like a rule"
    strings:
        $a = "SolarWinds.Orion.Core.BusinessLayer"
    condition:
        $a and not cairn_00000011000040008000000000000011_excluded
}

// indicator--00000012-0000-4000-8000-000000000012: SUNBURST strings
rule cairn_00000012000040008000000000000012_sunburst { strings: $b = "avsvmcloud" condition: $b }

