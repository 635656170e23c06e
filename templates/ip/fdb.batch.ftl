<#assign vni = host.vni?c>
<#list host.peers as p>
fdb replace ${p.mac} dev ${host.tunnelDevice} dst ${p.underlay} vni ${vni} self permanent
</#list>
