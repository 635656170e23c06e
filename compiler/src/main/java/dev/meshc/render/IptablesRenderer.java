package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.List;
import java.util.Map;

/** {@code iptables/rules.v4}: the nftables behaviour for {@code iptables-restore}. */
final class IptablesRenderer implements HostRenderer {
    @Override
    public List<Artifact> render(Plan plan, HostPlan host, Templates t) {
        return List.of(new Artifact("iptables/rules.v4", t.bytes("iptables/rules.v4.ftl", Map.of("host", host))));
    }
}
