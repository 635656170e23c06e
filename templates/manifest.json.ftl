{
  "files": [
<#list files as f>
    {"path": "${f.path?json_string}", "sha256": "${f.sha256}", "size": ${f.size?c}}<#sep>,</#sep>
</#list>
  ],
  "generator": "meshc",
  "inventory_sha256": "${inventorySha256}",
  "lock_sha256": "${lockSha256}",
  "meshc_version": "${version?json_string}"
}
