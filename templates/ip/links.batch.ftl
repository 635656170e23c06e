<#if host.encapsulation == "vxlan">
link add ${host.tunnelDevice} type vxlan id ${host.vni?c} local ${host.underlay} dstport ${host.vxlanPort?c} ttl 64 nolearning
link set ${host.tunnelDevice} address ${host.mac} mtu ${host.mtu?c} alias ${host.tunnelAlias} up
<#else>
link add ${host.tunnelDevice} type gre local ${host.underlay} ttl 64
link set ${host.tunnelDevice} mtu ${host.mtu?c} alias ${host.tunnelAlias} up
</#if>
