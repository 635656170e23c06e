package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.List;
import java.util.Map;

/** One file per host at {@code path}, rendered from {@code template} with the host's plan as {@code host}. */
record SingleFile(String path, String template) implements HostRenderer {
    @Override
    public List<Artifact> render(Plan plan, HostPlan host, Templates t) {
        return List.of(new Artifact(path, t.bytes(template, Map.of("host", host))));
    }

    @Override
    public List<String> templates() {
        return List.of(template);
    }
}
