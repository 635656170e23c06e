<#list host.peers as p>
neighbor replace ${p.gateway} lladdr <#if host.encapsulation == "vxlan">${p.mac}<#else>${p.underlay}</#if> dev ${host.tunnelDevice} nud permanent
</#list>
