<#list host.containers as c>
link set ${c.hostInterface} mtu ${host.mtu?c} addrgenmode none up
address replace ${host.gateway}/32 dev ${c.hostInterface}
route replace ${c.address}/32 dev ${c.hostInterface} scope link
</#list>
