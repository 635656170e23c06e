<#list host.peers as p>
fdb replace ${p.mac} dev ${host.tunnelDevice} dst ${p.underlay} vni ${host.vni} self permanent
</#list>
