package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.List;

/** Renders one kind of artifact for one host. Paths are relative to {@code hosts/<vm>/}. */
public interface HostRenderer {
    List<Artifact> render(Plan plan, HostPlan host, Templates templates);

    /** Every template this renderer may use (relative to {@code templates/}). */
    List<String> templates();
}
