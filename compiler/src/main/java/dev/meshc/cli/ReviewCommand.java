package dev.meshc.cli;

import dev.meshc.trace.Review;
import dev.meshc.trace.TraceError;
import dev.meshc.trace.Tracer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "review", mixinStandardHelpOptions = true,
        description = {"Compare two output trees (directories meshc compile wrote) by behaviour, not",
                "bytes: the flows gained and lost per relationship (replicas, VM ports,",
                "egress), each traced on both sides; containers added, removed and re-",
                "addressed; VIPs that moved; per host, the files rewritten and how disruptive",
                "applying them is (hitless, balancing reset, established flows cut, device",
                "recreated).",
                "Exit codes: 0 no behaviour change, 6 behaviour changed, 7 unexpected change",
                "(a VIP moved), 2 usage error, 4 a tree that is not meshc's."})
final class ReviewCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "BASE", description = "The output tree before the change (e.g. the approved golden/).")
    Path base;

    @Parameters(index = "1", paramLabel = "HEAD", description = "The output tree after it.")
    Path head;

    @Option(names = "--format", paramLabel = "text|markdown|json", description = "text, markdown (a pull-request comment) or json. Default: ${DEFAULT-VALUE}.")
    String format = "text";

    @Option(names = "--firewall", paramLabel = "nft|iptables", description = "Which ruleset to evaluate. Default: ${DEFAULT-VALUE}.")
    String firewall = "nft";

    @Option(names = {"-q", "--quiet"}, description = "Print only the summary line.")
    boolean quiet;

    @Option(names = "--debug", description = "Show stack traces of internal errors.")
    boolean debug;

    /** Witness traces printed in full (text: the first flow; markdown: folded, the first ten; json: all); the others show the hop that decided each side. */
    static final int TEXT_WITNESSES = 1, MARKDOWN_WITNESSES = 10;
    /** Flow rows per markdown table: a pull-request comment holds at most 65,536 characters; json has them all. */
    static final int MARKDOWN_ROWS = 100;

    @Override
    public Integer call() throws Exception {
        if (!List.of("text", "markdown", "json").contains(format)) throw new UsageError("--format must be text, markdown or json, not " + format);
        Tracer.Firewall fw = switch (firewall) {
            case "nft" -> Tracer.Firewall.NFT;
            case "iptables" -> Tracer.Firewall.IPTABLES;
            default -> throw new UsageError("--firewall must be nft or iptables, not " + firewall);
        };
        UsageError.unlessDirectory("BASE", base, "does not exist");
        UsageError.unlessDirectory("HEAD", head, "does not exist");
        Review.Report r;
        try {
            r = new Review(Review.read(base), Review.read(head), fw).review();
        } catch (TraceError e) {
            Main.err().println("meshc: cannot review: " + e.getMessage());
            return ExitCode.IO;
        }
        String shown = switch (format) {
            case "json" -> json(r);
            case "markdown" -> markdown(r);
            default -> quiet ? summary(r) + "\n" : text(r);
        };
        Main.out().print(shown);
        Main.out().flush();
        return code(r);
    }

    static int code(Review.Report r) {
        return r.unexpected() ? ExitCode.UNEXPECTED_CHANGE : r.changed() ? ExitCode.CHANGED : ExitCode.OK;
    }

    static String summary(Review.Report r) {
        String verdict = r.unexpected() ? "unexpected change: " + count(r.vips().size(), "VIP") + " moved"
                : r.changed() ? "behaviour changed" : "no behaviour change";
        return String.format(Locale.ROOT, "review: %s (%s gained, %s lost, %d re-addressed, %d added, %d removed, %s rewritten; %s probed, %s)",
                verdict, count(r.gained().size(), "flow"), count(r.lost().size(), "flow"), r.readdressed().size(), r.added().size(), r.removed().size(),
                count(r.hosts().size(), "host"), count(r.probed(), "flow"), r.firewall());
    }

    static String count(int n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }

    /** Where a side's trace stopped: its verdict and the hop that decided it. */
    static String decided(Tracer.Trace t, String absentWhy) {
        if (t == null) return absentWhy;
        if (t.delivered()) return t.branches().size() > 1 ? "delivered to " + t.branches().size() + " backends" : "delivered";
        if (t.hops().isEmpty()) return t.verdict();
        Tracer.Hop last = t.hops().get(t.hops().size() - 1);
        return t.verdict() + " at " + last.file() + ":" + last.line() + " (" + last.what() + ")";
    }

    static String absent(Review.FlowChange c, boolean base) {
        return (base ? c.baseAddr() : c.headAddr()) == null ? "not there (" + c.flow().dst() + " does not exist)" : "not there (" + c.flow().src() + " does not exist)";
    }

    static String flowLine(Review.FlowChange c) {
        Review.Flow f = c.flow();
        String addr = c.baseAddr() == null ? c.headAddr() : c.headAddr() == null || c.headAddr().equals(c.baseAddr()) ? c.baseAddr() : c.baseAddr() + " -> " + c.headAddr();
        return f.src() + " -> " + f.dst() + (f.dst().equals(addr) || f.dst().equals("vip " + addr) ? "" : " (" + addr + ")") + ":" + f.port() + "/" + f.proto();
    }

    static String text(Review.Report r) {
        StringBuilder sb = new StringBuilder();
        int[] shown = {0};
        for (var part : List.of(List.of("gained", r.gained()), List.of("lost", r.lost()))) {
            @SuppressWarnings("unchecked") List<Review.FlowChange> fs = (List<Review.FlowChange>) part.get(1);
            if (fs.isEmpty()) continue;
            sb.append("flows ").append(part.get(0)).append(" (").append(fs.size()).append("):\n");
            String group = null;
            for (Review.FlowChange c : sorted(fs)) {
                if (!c.flow().group().equals(group)) sb.append("  ").append(group = c.flow().group()).append('\n');
                sb.append("    ").append(flowLine(c)).append('\n');
                sb.append("      base: ").append(decided(c.base(), absent(c, true))).append('\n');
                sb.append("      head: ").append(decided(c.head(), absent(c, false))).append('\n');
                if (shown[0]++ < TEXT_WITNESSES) {
                    for (var side : List.of(List.of("base", c.base() == null ? "" : c.base()), List.of("head", c.head() == null ? "" : c.head()))) {
                        if (!(side.get(1) instanceof Tracer.Trace t)) continue;
                        for (String l : TraceCommand.text("witness on " + side.get(0) + ":", t).split("\n")) sb.append("      ").append(l.startsWith("  ") ? "  " : "").append(l.strip()).append('\n');
                    }
                }
            }
        }
        if (!r.added().isEmpty() || !r.removed().isEmpty() || !r.readdressed().isEmpty()) {
            sb.append("containers:\n");
            for (Review.Container c : r.added()) sb.append("  added         ").append(container(c)).append('\n');
            for (Review.Container c : r.removed()) sb.append("  removed       ").append(container(c)).append('\n');
            for (Review.Readdressed m : r.readdressed()) sb.append("  re-addressed  ").append(m.base().name()).append(" (").append(m.base().service()).append("): ")
                    .append(m.base().address()).append(" on ").append(m.base().vm()).append(" -> ").append(m.head().address()).append(" on ").append(m.head().vm()).append('\n');
        }
        if (!r.vips().isEmpty()) {
            sb.append("VIPs moved (unexpected: applications that pinned the address lose it):\n");
            for (Review.VipChange v : r.vips()) sb.append("  ").append(v.binding()).append(": ").append(String.join(", ", v.base())).append(" -> ").append(String.join(", ", v.head())).append('\n');
        }
        if (!r.hosts().isEmpty()) {
            sb.append("hosts:\n");
            for (Review.HostChange h : r.hosts()) {
                sb.append("  ").append(h.host()).append(": ").append(h.disruption().label).append('\n');
                sb.append("    rewritten: ").append(String.join(" ", h.files())).append('\n');
                for (String why : h.reasons()) sb.append("    - ").append(why).append('\n');
            }
        }
        return sb.append(summary(r)).append('\n').toString();
    }

    static String container(Review.Container c) {
        return c.name() + " (" + c.service() + ") " + c.address() + " on " + c.vm();
    }

    static List<Review.FlowChange> sorted(List<Review.FlowChange> fs) {
        List<Review.FlowChange> l = new ArrayList<>(fs);
        l.sort(java.util.Comparator.comparing((Review.FlowChange c) -> c.flow().group()).thenComparing(c -> c.flow().src()).thenComparing(c -> c.flow().dst())
                .thenComparing(c -> c.flow().proto()).thenComparingInt(c -> c.flow().port()));
        return l;
    }

    static String markdown(Review.Report r) {
        StringBuilder sb = new StringBuilder("### meshc review: ");
        sb.append(r.unexpected() ? ":warning: unexpected change" : r.changed() ? "behaviour changed" : "no behaviour change").append("\n\n");
        sb.append(String.format(Locale.ROOT, "%s gained, %d lost; containers: %d re-addressed, %d added, %d removed; %s moved; %s rewritten (%s probed, %s).%n%n",
                count(r.gained().size(), "flow"), r.lost().size(), r.readdressed().size(), r.added().size(), r.removed().size(), count(r.vips().size(), "VIP"),
                count(r.hosts().size(), "host"), count(r.probed(), "flow"), r.firewall()));
        int shown = 0;
        for (var part : List.of(List.of("Flows gained", r.gained()), List.of("Flows lost", r.lost()))) {
            @SuppressWarnings("unchecked") List<Review.FlowChange> fs = (List<Review.FlowChange>) part.get(1);
            if (fs.isEmpty()) continue;
            sb.append("#### ").append(part.get(0)).append("\n\n| relationship | flow | base | head |\n|---|---|---|---|\n");
            int rows = 0;
            for (Review.FlowChange c : sorted(fs)) {
                if (rows++ == MARKDOWN_ROWS) {
                    sb.append("| … | ").append(fs.size() - MARKDOWN_ROWS).append(" more (`--format json` lists them all) | | |\n");
                    break;
                }
                sb.append("| ").append(md(c.flow().group())).append(" | `").append(flowLine(c)).append("` | ").append(md(verdict(c.base(), absent(c, true))))
                        .append(" | ").append(md(verdict(c.head(), absent(c, false)))).append(" |\n");
            }
            sb.append('\n');
            for (Review.FlowChange c : sorted(fs)) {
                if (shown++ >= MARKDOWN_WITNESSES) break;
                sb.append("<details><summary>witness: <code>").append(html(flowLine(c))).append("</code></summary>\n\n```\n");
                if (c.base() != null) sb.append(TraceCommand.text("base:", c.base()));
                if (c.head() != null) sb.append(TraceCommand.text("head:", c.head()));
                sb.append("```\n\n</details>\n\n");
            }
        }
        if (!r.added().isEmpty() || !r.removed().isEmpty() || !r.readdressed().isEmpty()) {
            sb.append("#### Containers\n\n| container | change | base | head |\n|---|---|---|---|\n");
            for (Review.Container c : r.added()) sb.append("| ").append(c.name()).append(" | added | | ").append(c.address()).append(" on ").append(c.vm()).append(" |\n");
            for (Review.Container c : r.removed()) sb.append("| ").append(c.name()).append(" | removed | ").append(c.address()).append(" on ").append(c.vm()).append(" | |\n");
            for (Review.Readdressed m : r.readdressed()) sb.append("| ").append(m.base().name()).append(" | re-addressed | ").append(m.base().address()).append(" on ").append(m.base().vm())
                    .append(" | ").append(m.head().address()).append(" on ").append(m.head().vm()).append(" |\n");
            sb.append('\n');
        }
        if (!r.vips().isEmpty()) {
            sb.append("#### :warning: VIPs moved\n\nApplications that pinned the address lose it.\n\n| binding | base | head |\n|---|---|---|\n");
            for (Review.VipChange v : r.vips()) sb.append("| ").append(md(v.binding())).append(" | ").append(md(String.join(", ", v.base()))).append(" | ").append(md(String.join(", ", v.head()))).append(" |\n");
            sb.append('\n');
        }
        if (!r.hosts().isEmpty()) {
            sb.append("#### Hosts\n\n| host | applying it | why | files rewritten |\n|---|---|---|---|\n");
            for (Review.HostChange h : r.hosts()) {
                sb.append("| ").append(h.host()).append(" | **").append(h.disruption().label).append("** | ").append(md(String.join("; ", h.reasons()))).append(" | ")
                        .append(md(String.join(" ", h.files()))).append(" |\n");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String verdict(Tracer.Trace t, String absentWhy) {
        return t == null ? absentWhy : t.verdict();
    }

    static String md(String s) {
        return s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;");
    }

    static String html(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static String json(Review.Report r) {
        StringBuilder sb = new StringBuilder("{\"result\": ").append(TraceCommand.q(code(r) == ExitCode.OK ? "unchanged" : code(r) == ExitCode.CHANGED ? "changed" : "unexpected"))
                .append(", \"firewall\": ").append(TraceCommand.q(r.firewall())).append(", \"probed\": ").append(r.probed());
        for (var part : List.of(List.of("gained", r.gained()), List.of("lost", r.lost()))) {
            @SuppressWarnings("unchecked") List<Review.FlowChange> fs = (List<Review.FlowChange>) part.get(1);
            sb.append(",\n\"").append(part.get(0)).append("\": [");
            String sep = "\n";
            for (Review.FlowChange c : sorted(fs)) {
                Review.Flow f = c.flow();
                sb.append(sep).append("  {\"group\": ").append(TraceCommand.q(f.group())).append(", \"src\": ").append(TraceCommand.q(f.src()))
                        .append(", \"dst\": ").append(TraceCommand.q(f.dst())).append(", \"proto\": ").append(TraceCommand.q(f.proto())).append(", \"port\": ").append(f.port())
                        .append(", \"base_address\": ").append(c.baseAddr() == null ? "null" : TraceCommand.q(c.baseAddr()))
                        .append(", \"head_address\": ").append(c.headAddr() == null ? "null" : TraceCommand.q(c.headAddr()))
                        .append(", \"base\": ").append(c.base() == null ? "null" : TraceCommand.json(c.base()))
                        .append(", \"head\": ").append(c.head() == null ? "null" : TraceCommand.json(c.head())).append('}');
                sep = ",\n";
            }
            sb.append(fs.isEmpty() ? "]" : "\n]");
        }
        sb.append(",\n\"containers\": {\"added\": [").append(String.join(", ", r.added().stream().map(ReviewCommand::json).toList()))
                .append("], \"removed\": [").append(String.join(", ", r.removed().stream().map(ReviewCommand::json).toList()))
                .append("], \"readdressed\": [").append(String.join(", ", r.readdressed().stream().map(m -> "{\"base\": " + json(m.base()) + ", \"head\": " + json(m.head()) + "}").toList()))
                .append("]},\n\"vips_moved\": [");
        sb.append(String.join(", ", r.vips().stream().map(v -> "{\"binding\": " + TraceCommand.q(v.binding()) + ", \"base\": " + strings(v.base()) + ", \"head\": " + strings(v.head()) + "}").toList()));
        sb.append("],\n\"hosts\": [");
        String sep = "\n";
        for (Review.HostChange h : r.hosts()) {
            sb.append(sep).append("  {\"host\": ").append(TraceCommand.q(h.host())).append(", \"disruption\": ").append(TraceCommand.q(h.disruption().name().toLowerCase(Locale.ROOT).replace('_', '-')))
                    .append(", \"settings_changed\": ").append(h.settings()).append(", \"reasons\": ").append(strings(h.reasons())).append(", \"files\": ").append(strings(h.files())).append('}');
            sep = ",\n";
        }
        return sb.append(r.hosts().isEmpty() ? "]}" : "\n]}").append('\n').toString();
    }

    static String json(Review.Container c) {
        return "{\"name\": " + TraceCommand.q(c.name()) + ", \"service\": " + TraceCommand.q(c.service()) + ", \"vm\": " + TraceCommand.q(c.vm()) + ", \"address\": " + TraceCommand.q(c.address()) + "}";
    }

    static String strings(List<String> l) {
        return "[" + String.join(", ", l.stream().map(TraceCommand::q).toList()) + "]";
    }
}
