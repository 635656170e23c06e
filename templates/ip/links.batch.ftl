<#if host.encapsulation == "vxlan">
link add ${host.tunnelDevice} type vxlan id ${host.vni} local ${host.underlay} dstport ${host.vxlanPort} nolearning
link set ${host.tunnelDevice} address ${host.mac} mtu ${host.mtu} up
<#else>
link add ${host.tunnelDevice} type gre local ${host.underlay} ttl 64
link set ${host.tunnelDevice} mtu ${host.mtu} up
</#if>
address replace ${host.gateway}/32 dev ${host.tunnelDevice}
