{
  "address": "${c.address}",
  "gateway": "${host.gateway}",
  "host_interface": "${c.hostInterface}",
  "index": ${c.index?c},
  "mtu": ${host.mtu?c},
  "prefix": 32,
  "service": "${c.service}",
  "vm": "${host.name}"
}
