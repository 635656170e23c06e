package dev.meshc.render;

import dev.meshc.plan.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code ansible/inventory.yml}: hosts = VMs, with their underlay, overlay subnet and gateway as host vars. */
final class AnsibleInventoryRenderer implements FleetRenderer {
    /** A host row; strings so the template only prints. */
    public record Host(String name, String underlay, String iface, String subnet, String gateway) {
    }

    @Override
    public String path() {
        return "ansible/inventory.yml";
    }

    @Override
    public List<String> templates() {
        return List.of("ansible/inventory.yml.ftl");
    }

    @Override
    public Artifact render(Plan plan, Templates t) {
        List<Host> hosts = new ArrayList<>();
        plan.vms().values().forEach(v -> hosts.add(new Host(v.name(), dev.meshc.model.Ipv4.format(v.vm().underlay()),
                v.vm().iface(), v.subnet().toString(), dev.meshc.model.Ipv4.format(v.gateway()))));
        var n = plan.inventory().network();
        return new Artifact(path(), t.bytes("ansible/inventory.yml.ftl", Map.of(
                "hosts", hosts, "encapsulation", n.encapsulation().id(), "overlay", n.overlay().toString(),
                "vip", n.vip().toString(), "mtu", n.overlayMtu())));
    }
}
