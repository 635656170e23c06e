package dev.meshc.emit;

import dev.meshc.plan.Frontend;
import dev.meshc.plan.LockFile;
import dev.meshc.plan.Plan;
import dev.meshc.render.Artifact;
import dev.meshc.render.ManifestRenderer;
import dev.meshc.render.Renderers;
import dev.meshc.render.Templates;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The whole output of a valid inventory, in memory and sorted, manifest included. Shared by compile, check and plan. */
public final class Compilation {
    private Compilation() {
    }

    public static List<Artifact> render(Frontend.Result result, Collection<String> hosts, Templates templates, String version) {
        Plan plan = result.plan().orElseThrow();
        List<Artifact> artifacts = new ArrayList<>(Renderers.render(plan, hosts, templates));
        String lockText = LockFile.format(plan.lock());
        String inventorySha = ManifestRenderer.sha256(CanonicalJson.of(result.tree().orElseThrow().root()));
        artifacts.add(ManifestRenderer.render(artifacts, inventorySha,
                ManifestRenderer.sha256(lockText.getBytes(StandardCharsets.UTF_8)), version, templates));
        artifacts.sort(null);
        return List.copyOf(artifacts);
    }
}
