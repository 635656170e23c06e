<#list rels as r>
${r.ip} ${r.host}
</#list>
