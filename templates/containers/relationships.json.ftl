<#if rels?has_content>
{
<#list rels as r>
  "${r.name?json_string}": [
    {
      "host": "${r.host?json_string}",
      "ip": "${r.ip}",
      "port": ${r.port?c},
      "rel": "${r.rel?json_string}",
      "scheme": "${r.scheme?json_string}",
      "service": "${r.service?json_string}",
      "url": "${r.url?json_string}"
    }
  ]<#sep>,</#sep>
</#list>
}
<#else>
{}
</#if>
