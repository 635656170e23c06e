package dev.meshc.cli;

import dev.meshc.plan.Frontend;
import dev.meshc.plan.LockFile;
import dev.meshc.plan.Plan;
import dev.meshc.render.Artifact;
import dev.meshc.render.ManifestRenderer;
import dev.meshc.render.Renderers;
import dev.meshc.render.Templates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Front end plus rendering, shared by compile, check and plan: the whole output in memory. */
final class Session {
    private Session() {
    }

    static List<Artifact> render(Frontend.Result result, Collection<String> hosts, Path templatesDir) throws IOException {
        Plan plan = result.plan().orElseThrow();
        Templates t = templatesDir == null ? Templates.bundled() : Templates.fromDirectory(templatesDir);
        List<Artifact> artifacts = new ArrayList<>(Renderers.render(plan, hosts, t));
        String lockText = LockFile.format(plan.lock());
        String inventorySha = ManifestRenderer.sha256(CanonicalJson.of(result.tree().orElseThrow().root()));
        artifacts.add(ManifestRenderer.render(artifacts, inventorySha,
                ManifestRenderer.sha256(lockText.getBytes(StandardCharsets.UTF_8)), Version.get(), t));
        artifacts.sort(null);
        return artifacts;
    }
}
