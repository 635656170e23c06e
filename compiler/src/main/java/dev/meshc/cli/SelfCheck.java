package dev.meshc.cli;

import dev.meshc.diag.Timings;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.Plan;
import dev.meshc.plan.VmPlan;
import dev.meshc.render.Artifact;
import dev.meshc.render.Renderers;
import dev.meshc.render.Templates;
import dev.meshc.trace.Network;
import dev.meshc.trace.TraceError;
import dev.meshc.trace.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code compile} and {@code check} verify what they produce ({@code meshc verify}'s checks): the files of
 * the hosts a run rendered must reach exactly what the inventory allows. A difference is a bug in meshc,
 * reported as one: exit 70 with the findings and a witness flow. Only the hosts whose files this run wrote
 * are checked (an incremental compile's few); a run that wrote more than {@link #HOSTS} hosts checks the
 * {@link #HOSTS} with the most files written (a moved or added container's VM first; ties by name), so that a
 * full compile of a thousand VMs or a change touching forty pays for a few hosts and not for all of them
 * (every host's data is the same code's output; {@code meshc verify} checks them all). Traces end where a flow
 * leaves the checked hosts: the rest of its path is the other hosts' files' decision.
 */
final class SelfCheck {
    /** Hosts checked at most per run (measured: bench/findings.md, "verify in compile"). */
    static final int HOSTS = 8;

    private SelfCheck() {
    }

    /**
     * Verifies the hosts of {@code written} (paths under OUT), their files rendered again in memory (the same bytes:
     * rendering is deterministic), or read from the tree {@code out} when given (tests: a tree edited as a bug would
     * write it). Returns {@link ExitCode#OK} or {@link ExitCode#INTERNAL}.
     */
    static int verify(Frontend.Result r, Path out, Collection<String> written, Path templates, java.io.PrintWriter err) throws IOException {
        return verify(r, vm -> out != null && Files.isRegularFile(out.resolve("hosts").resolve(vm).resolve("nftables/meshc.nft")) ? EmittedFiles.read(out, vm) : null,
                written, templates, err);
    }

    /**
     * The hosts a run that wrote {@code written} checks, with their files as OUT holds them: compile reads them
     * while it still holds OUT's lock (after it, another compile may be rewriting OUT), instead of rendering them
     * again; a few hosts' files (the largest about 2 MB at fleet L). {@code rendered}: per host, the paths this run
     * rendered (only those are read: a file beside them that meshc did not write is not evaluated).
     */
    static Map<String, Map<String, byte[]>> committed(Plan plan, Path out, Collection<String> written, Map<String, ? extends Collection<String>> rendered)
            throws IOException {
        Map<String, Map<String, byte[]>> files = new TreeMap<>();
        for (String vm : scope(plan, written)) {
            Map<String, byte[]> own = new TreeMap<>();
            Collection<String> paths = rendered.get(vm);
            if (paths != null) for (String p : paths) own.put(p, Files.readAllBytes(out.resolve(p)));
            files.put(vm, own);
        }
        return files;
    }

    /** As above, with the checked hosts' files as {@link #committed} read them. */
    static int verifyCommitted(Frontend.Result r, Map<String, Map<String, byte[]>> committed, Collection<String> written, Path templates,
                               java.io.PrintWriter err) throws IOException {
        return verify(r, vm -> committed.get(vm), written, templates, err);
    }

    /** The hosts of {@code written} to check: those with the most files written, at most {@link #HOSTS}. */
    static List<String> scope(Plan plan, Collection<String> written) {
        Map<String, Integer> changed = new TreeMap<>();
        for (String p : written) {
            if (!p.startsWith("hosts/")) continue;
            int slash = p.indexOf('/', 6);
            String vm = slash < 0 ? p.substring(6) : p.substring(6, slash);
            if (plan.vms().containsKey(vm)) changed.merge(vm, 1, Integer::sum);
        }
        return mostWritten(changed, HOSTS);
    }

    /** {@code given}: a host's files when at hand (null: rendered again in memory). */
    private static int verify(Frontend.Result r, Network.HostFiles given, Collection<String> written, Path templates, java.io.PrintWriter err) throws IOException {
        Plan plan = r.plan().orElseThrow();
        List<String> scope = scope(plan, written);
        if (scope.isEmpty()) return ExitCode.OK;
        Templates tpl = Main.templates(templates);
        Map<Integer, String> containers = new HashMap<>(), underlays = new HashMap<>();
        for (ContainerPlan c : plan.containers().values()) containers.put(c.address(), c.vm());
        for (VmPlan v : plan.vms().values()) underlays.put(v.vm().underlay(), v.name());
        Network net = Network.lazy(plan.vms().keySet(), vm -> {
            Map<String, byte[]> files = given.of(vm);
            if (files != null) return files;
            files = new TreeMap<>();
            for (Artifact a : Renderers.renderHost(plan, vm, tpl)) files.put(a.path(), a.bytes());
            return files;
        }, containers, underlays, EmittedFiles.KEEP);
        Verifier.Report rep;
        try {
            rep = new Verifier(plan, net, scope).verify();
        } catch (TraceError e) {
            err.println("meshc: internal error: meshc cannot evaluate the files it wrote (a bug in meshc; please report it): " + e.getMessage());
            return ExitCode.INTERNAL;
        }
        long[] load = net.loadNanos();
        Timings.part("verify: hosts' files (" + net.parses() + ")", load[0]);
        Timings.part("verify: hosts parsed (" + net.parses() + ")", load[1]);
        Timings.mark("verify (" + scope.size() + " hosts, " + rep.traced() + " flows traced)");
        if (rep.ok()) return ExitCode.OK;
        err.println("meshc: internal error: the files meshc wrote reach other than the inventory allows (a bug in meshc; please report it"
                + " with the output below; 'meshc verify' shows it again):");
        err.print(VerifyCommand.format(rep, true));
        err.flush();
        return ExitCode.INTERNAL;
    }

    /** The {@code n} hosts with the most files written (ties by name), in name order. */
    static List<String> mostWritten(Map<String, Integer> files, int n) {
        List<String> hosts = new ArrayList<>(files.keySet());
        hosts.sort((a, b) -> files.get(a).equals(files.get(b)) ? a.compareTo(b) : files.get(b) - files.get(a));
        return List.copyOf(new TreeSet<>(hosts.subList(0, Math.min(n, hosts.size()))));
    }
}
