address replace ${host.gateway}/32 dev ${host.tunnelDevice}
route replace unreachable ${host.subnet} proto 252
<#list host.peers as p>
route replace ${p.subnet} via ${p.gateway} dev ${host.tunnelDevice} onlink proto 252
</#list>
