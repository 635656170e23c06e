package dev.meshc.cli;

import dev.meshc.emit.PlanReport;
import dev.meshc.plan.Frontend;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Show what compile would add, change and remove in OUT, per host, and which containers' addresses and relationship targets change.",
                "Writes nothing. Exit 0 whether or not there are changes."})
final class PlanCommand implements Callable<Integer> {
    @Mixin
    InventoryInput input;

    @Option(names = "--against", required = true, paramLabel = "OUT", description = "The output directory of a previous compile.")
    Path against;

    @Option(names = "--json", description = "Print the plan as JSON.")
    boolean json;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        UsageError.unlessDirectory("--against", against, null); // a missing OUT is a first deploy: everything added
        Frontend.Result r = input.analyze(common);
        if (!r.ok()) return ExitCode.INVALID;
        var plan = r.plan().get();
        PlanReport report = PlanReport.of(plan, Main.drift(r, against, null, PlanReport::needsBytes));
        Main.out().print(json ? report.json() : report.text());
        Main.out().flush();
        return ExitCode.OK;
    }
}
