<#list host.containers as c>
address replace ${host.gateway}/32 dev ${c.hostInterface}
link set ${c.hostInterface} up
route replace ${c.address}/32 dev ${c.hostInterface} scope link
</#list>
