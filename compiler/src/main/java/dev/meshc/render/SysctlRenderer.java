package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.List;
import java.util.Map;

/** {@code sysctl/90-meshc.conf}: the kernel settings the routed design depends on (forwarding). */
final class SysctlRenderer implements HostRenderer {
    @Override
    public List<Artifact> render(Plan plan, HostPlan host, Templates t) {
        return List.of(new Artifact("sysctl/90-meshc.conf", t.bytes("sysctl/90-meshc.conf.ftl", Map.of("host", host))));
    }
}
