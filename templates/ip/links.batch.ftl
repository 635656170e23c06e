<#if host.encapsulation == "vxlan">
link add ${host.tunnelDevice} type vxlan id ${host.vni?c} local ${host.underlay} dstport ${host.vxlanPort?c} ttl 64 nolearning
link set ${host.tunnelDevice} address ${host.mac} alias ${host.tunnelAlias}
<#else>
link add ${host.tunnelDevice} type gre local ${host.underlay} ttl 64
link set ${host.tunnelDevice} alias ${host.tunnelAlias}
</#if>
link set ${host.tunnelDevice} mtu ${host.mtu?c} up
