<#list host.peers as p>
route replace ${p.subnet} via ${p.gateway} dev ${host.tunnelDevice} onlink
</#list>
