package dev.meshc.cli;

import dev.meshc.emit.Compilation;
import dev.meshc.emit.FileChange;
import dev.meshc.emit.OutputTree;
import dev.meshc.emit.PlanReport;
import dev.meshc.emit.Previous;
import dev.meshc.plan.Frontend;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Show what compile would add, change and remove in OUT, per host, and which containers' addresses and relationship targets change.",
                "Writes nothing. Refuses (exit 2) an OUT that compile would refuse; files meshc did not write are not shown as removed, as compile keeps them.",
                "Exit 0 whether or not there are changes; with --detailed-exitcode, 0 for no change and 3 when compile would change OUT."})
final class PlanCommand implements Callable<Integer> {
    @Mixin
    InventoryInput input;

    @Option(names = "--against", required = true, paramLabel = "OUT", description = "The output directory of a previous compile.")
    Path against;

    @Option(names = "--json", description = "Print the plan as JSON.")
    boolean json;

    @Option(names = "--detailed-exitcode", description = "Exit 3 when compile would change OUT, 0 when it would not (as terraform plan -detailed-exitcode, whose 2 is meshc's usage error).")
    boolean detailedExitCode;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        UsageError.unlessDirectory("--against", against, null); // a missing OUT is a first deploy: everything added
        OutputTree.checkOwnership(against); // a directory compile would refuse: exit 2 here too, not a list of "removals"
        Inputs in = input.inputs();
        Frontend.Result tooLarge = in.read();
        Previous previous = Previous.read(against);
        if (tooLarge == null && in.lockText != null && previous.state() != null
                && previous.state().inputs().equals(in.fingerprint(Compilation.bundledContext(Version.get()), in.lockText))) {
            // OUT was compiled from these very bytes: compile would change nothing, as it would print these warnings again.
            Main.report(common, in, previous.state().diagnosticsFor(in.label(), in.lockLabel()));
            return print(new PlanReport(java.util.Map.of(), List.of(), List.of()), false);
        }
        Frontend.Result r = input.analyze(common);
        if (!r.ok()) return ExitCode.INVALID;
        var plan = r.plan().get();
        List<FileChange> changes = onlyWhatCompileRemoves(Main.drift(r, against, PlanReport::needsBytes, previous), previous);
        Main.report(common, input.inputs(), CompileCommand.missingLock(input.inputs(), against, plan));
        return print(PlanReport.of(plan, changes), !changes.isEmpty());
    }

    private int print(PlanReport report, boolean changes) {
        Main.out().print(json ? report.json() : report.text());
        Main.out().flush();
        return detailedExitCode && changes ? ExitCode.DRIFT : ExitCode.OK;
    }

    /** compile removes only what its previous manifest listed: a file added by hand stays, so it is no removal. */
    static List<FileChange> onlyWhatCompileRemoves(List<FileChange> changes, Previous previous) {
        return changes.stream().filter(c -> c.kind() != FileChange.Kind.REMOVED || previous.sha(c.path()) != null).toList();
    }
}
