{
  "address": "${c.address}",
  "gateway": "${host.gateway}",
  "host_interface": "${c.hostInterface}",
  "index": ${c.index},
  "mtu": ${host.mtu},
  "prefix": 32,
  "service": "${c.service}",
  "vm": "${host.name}"
}
