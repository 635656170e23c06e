package dev.meshc.cli;

import dev.meshc.plan.Frontend;
import dev.meshc.trace.Network;
import dev.meshc.trace.TraceError;
import dev.meshc.trace.Tracer;
import dev.meshc.trace.Verifier;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Compute from the emitted files the reachability matrix, for nft and iptables, and compare it with",
                "the inventory's intent: every relationship reaches every backend through its VIP and by address,",
                "replicas reach each other, declared egress and VM ports pass, nothing else passes, and both firewalls",
                "agree. Per equivalence class: every host's set elements and per-flow rules are compared with what the",
                "inventory's flows need there, for every container; the chains are traced end to end from the first",
                "container of each kind of service on each VM. Without --out the inventory is compiled in memory, a host at a time.",
                "Exit codes: 0 equal to intent, 5 a difference (each printed with a witness flow and its trace),",
                "1 invalid inventory, 2 usage error, 4 files that are not meshc's."})
final class VerifyCommand implements Callable<Integer> {
    @Mixin
    InventoryInput input;

    @Option(names = "--out", paramLabel = "DIR", description = "Verify this output tree (e.g. one an operator edited) instead of compiling in memory.")
    Path out;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        Frontend.Result r = input.analyze(common);
        if (!r.ok()) return ExitCode.INVALID;
        Verifier.Report rep;
        try {
            Network net = EmittedFiles.lazy(r.plan().orElseThrow(), out, null);
            if (net.hostNames().isEmpty()) throw new TraceError(out + "/hosts/", 0, "no host has nftables/meshc.nft: not a meshc output tree");
            rep = new Verifier(r.plan().orElseThrow(), net).verify();
            dev.meshc.diag.Timings.mark("verify (" + net.hostNames().size() + " hosts, " + net.parses() + " host parses, " + rep.traced() + " flows traced)");
        } catch (TraceError e) {
            Main.err().println("meshc: cannot evaluate: " + e.getMessage());
            return ExitCode.IO;
        }
        Main.out().print(format(rep, common.quiet));
        Main.out().flush();
        return rep.ok() ? ExitCode.OK : ExitCode.NOT_DELIVERED;
    }

    static String format(Verifier.Report rep, boolean quiet) {
        StringBuilder sb = new StringBuilder();
        if (!quiet) {
            for (Verifier.Row row : rep.rows()) sb.append(row.ok() ? "  ok    " : "  FAIL  ").append(row.what()).append(": ").append(row.count()).append(' ').append(row.unit()).append('\n');
        }
        int shown = 0;
        for (Verifier.Finding f : rep.findings()) {
            sb.append(f.kind()).append(": ").append(f.summary()).append('\n');
            if (f.witness() != null && shown++ < 3) {
                String[] ls = TraceCommand.text("witness:", f.witness()).split("\n");
                for (int i = 0; i < ls.length; i++) sb.append(i == 0 ? "  " : "  ").append(i == 0 || ls[i].startsWith("  ") ? "" : "  ").append(ls[i]).append('\n');
            }
        }
        sb.append("verify: ").append(rep.ok() ? "the files reach exactly what the inventory allows (nft and iptables, "
                : rep.findings().size() + " difference" + (rep.findings().size() == 1 ? "" : "s") + " from the inventory's intent (")
                .append(rep.traced()).append(" flows traced)\n");
        return sb.toString();
    }
}
