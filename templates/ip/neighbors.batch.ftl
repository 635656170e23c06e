<#if host.encapsulation == "vxlan">
<#list host.peers as p>
neighbor replace ${p.gateway} lladdr ${p.mac} dev ${host.tunnelDevice} nud permanent
</#list>
<#else>
<#list host.peers as p>
neighbor replace ${p.gateway} lladdr ${p.underlay} dev ${host.tunnelDevice} nud permanent
</#list>
</#if>
