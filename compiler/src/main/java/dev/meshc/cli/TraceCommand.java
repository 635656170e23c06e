package dev.meshc.cli;

import dev.meshc.plan.Frontend;
import dev.meshc.trace.Network;
import dev.meshc.trace.TraceError;
import dev.meshc.trace.Tracer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "trace", mixinStandardHelpOptions = true,
        description = {"Follow one new flow through the emitted files of every host on its path and print each hop",
                "with the file and line that decided it: source veth and anti-spoofing, VIP map and DNAT (every",
                "branch), route, neighbour/FDB, encapsulation, the peer's tunnel filter, the flow allowlist,",
                "delivery, and the reply. Without --out the inventory is compiled in memory.",
                "Exit codes: 0 delivered (every DNAT branch), 5 not delivered (the verdict names why), 1 invalid",
                "inventory, 2 usage error (e.g. an unknown source), 4 files that are not meshc's."})
final class TraceCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC", description = "A container name or its overlay address.")
    String src;

    @Parameters(index = "1", paramLabel = "DST", description = "HOST:PORT[/tcp|udp] (tcp when omitted); HOST: a container, an overlay address, a VIP, a name from SRC's hosts file (database.internal), or an address outside the overlay.")
    String dst;

    @Parameters(index = "2", paramLabel = "INVENTORY", description = "The inventory YAML file.")
    Path inventory;

    @Option(names = "--lock", paramLabel = "FILE", description = "Lock file (default: meshc.lock beside the inventory).")
    Path lock;

    @Option(names = "--out", paramLabel = "DIR", description = "Evaluate this output tree instead of compiling in memory.")
    Path out;

    @Option(names = "--firewall", paramLabel = "nft|iptables", description = "Which ruleset to evaluate. Default: ${DEFAULT-VALUE}.")
    String firewall = "nft";

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        Tracer.Firewall fw = switch (firewall) {
            case "nft" -> Tracer.Firewall.NFT;
            case "iptables" -> Tracer.Firewall.IPTABLES;
            default -> throw new UsageError("--firewall must be nft or iptables, not " + firewall);
        };
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.+):(\\d{1,5})(?:/(tcp|udp))?").matcher(dst);
        if (!m.matches() || Integer.parseInt(m.group(2)) > 65535) throw new UsageError("DST must be HOST:PORT[/tcp|udp], not " + dst);
        Inputs in = new Inputs(inventory, lock);
        Frontend.Result r = in.run();
        Main.report(common, in, r.diagnostics());
        if (!r.ok()) return ExitCode.INVALID;
        Network net = EmittedFiles.network(r, out, common);
        if (net == null) return ExitCode.IO;
        Tracer.Trace t;
        String heading;
        try {
            Network.Endpoint s = net.source(src);
            if (s == null) throw new UsageError("SRC " + src + " is no container of the files (a container name or its overlay address)");
            Network.Endpoint d = net.destination(s, m.group(1));
            if (d == null) throw new UsageError("DST host " + m.group(1) + " is not a container, an address, nor a name in " + s.name() + "'s hosts file");
            String proto = m.group(3) == null ? "tcp" : m.group(3);
            int port = Integer.parseInt(m.group(2));
            t = new Tracer(net, fw).trace(s.address(), d.address(), proto, port, d.hops());
            heading = "trace " + s.name() + " (" + s.address() + ") -> " + (d.name().equals(d.address()) ? d.address() : d.name() + " (" + d.address() + ")")
                    + ":" + port + "/" + proto + ", " + firewall;
        } catch (TraceError e) {
            Main.err().println("meshc: cannot evaluate: " + e.getMessage());
            return ExitCode.IO;
        }
        if (common.format == Reporter.Format.json) Main.out().println(json(t));
        else Main.out().print(text(heading, t));
        Main.out().flush();
        return t.delivered() ? ExitCode.OK : ExitCode.NOT_DELIVERED;
    }

    static String text(String heading, Tracer.Trace t) {
        StringBuilder sb = new StringBuilder(heading).append('\n');
        int w = 0;
        for (Tracer.Hop h : t.hops()) w = Math.max(w, (h.file() + ":" + h.line()).length());
        for (Tracer.Hop h : t.hops()) {
            String loc = h.file() + ":" + h.line();
            sb.append("  ").append(loc).append(" ".repeat(w - loc.length() + 2)).append(h.what()).append('\n');
        }
        List<String> bs = new ArrayList<>();
        for (Tracer.Branch b : t.branches()) bs.add((b.container() != null ? b.container() + " " : "") + b.backend() + ": " + b.verdict());
        sb.append("verdict: ").append(t.verdict());
        if (t.branches().size() > 1) sb.append(" (").append(String.join(", ", bs)).append(')');
        return sb.append('\n').toString();
    }

    static String json(Tracer.Trace t) {
        StringBuilder sb = new StringBuilder("{\"verdict\": ").append(q(t.verdict())).append(", \"hops\": [");
        for (int i = 0; i < t.hops().size(); i++) {
            Tracer.Hop h = t.hops().get(i);
            sb.append(i == 0 ? "\n" : ",\n").append("  {\"host\": ").append(q(h.host())).append(", \"file\": ").append(q(h.file()))
                    .append(", \"line\": ").append(h.line()).append(", \"what\": ").append(q(h.what())).append('}');
        }
        sb.append("\n], \"backends\": [");
        for (int i = 0; i < t.branches().size(); i++) {
            Tracer.Branch b = t.branches().get(i);
            sb.append(i == 0 ? "" : ", ").append("{\"address\": ").append(q(b.backend())).append(", \"container\": ")
                    .append(b.container() == null ? "null" : q(b.container())).append(", \"verdict\": ").append(q(b.verdict())).append('}');
        }
        return sb.append("]}").toString();
    }

    static String q(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString();
    }
}
