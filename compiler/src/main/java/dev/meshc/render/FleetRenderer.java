package dev.meshc.render;

import dev.meshc.plan.Plan;
import java.util.List;

/** Renders one fleet-wide file (outside {@code hosts/}): its path relative to OUT is declared, so emit knows what it owns. */
public interface FleetRenderer {
    /** The file's path relative to OUT, in a directory of its own (never beside the manifest). */
    String path();

    /** Every template this renderer may use (relative to {@code templates/}). */
    List<String> templates();

    /** The file, at {@link #path()}. */
    Artifact render(Plan plan, Templates templates);
}
