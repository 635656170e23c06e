package dev.meshc.cli;

import dev.meshc.plan.Frontend;
import dev.meshc.render.GraphRenderer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "graph", mixinStandardHelpOptions = true,
        description = {"Draw the inventory: VMs with their containers, relationships as edges labelled with their VIPs.",
                "Graphviz DOT (render with 'dot -Tsvg') or Mermaid (renders in GitHub Markdown)."})
final class GraphCommand implements Callable<Integer> {
    @Mixin
    InventoryInput input;

    @Option(names = "--as", paramLabel = "dot|mermaid", description = "Output syntax (default: ${DEFAULT-VALUE}).")
    GraphRenderer.Format as = GraphRenderer.Format.dot;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write to FILE instead of standard output.")
    Path output;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        Frontend.Result r = input.analyze(common);
        if (!r.ok()) return ExitCode.INVALID;
        String text = GraphRenderer.render(withFileName(r.plan().get()), as, Main.templates(null));
        if (output == null) {
            Main.out().print(text);
            Main.out().flush();
        } else {
            Files.writeString(output, text, StandardCharsets.UTF_8);
        }
        return ExitCode.OK;
    }

    /**
     * The plan with the inventory named by its file name only: the graph's header names its source, and a
     * committed graph must not change with the directory meshc was run from (no absolute paths in output).
     */
    static dev.meshc.plan.Plan withFileName(dev.meshc.plan.Plan p) {
        Path name = Path.of(p.inventory().file()).getFileName();
        var i = p.inventory();
        var inv = new dev.meshc.model.Inventory(name == null ? i.file() : name.toString(), i.network(), i.vms(), i.services(), i.containers());
        return new dev.meshc.plan.Plan(inv, p.layout(), p.vipRange(), p.vms(), p.containers(), p.bindings(), p.targets(),
                p.containersByVm(), p.containersByService(), p.targetsByService(), p.consumersOfTarget(), p.lock(), p.peers(),
                p.vmAddresses(), p.iptChains());
    }
}
