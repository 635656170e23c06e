package dev.meshc.cli;

import dev.meshc.emit.Drift;
import dev.meshc.emit.FileChange;
import dev.meshc.plan.Frontend;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Compile in memory and compare with an approved directory (golden files).",
                "Prints a unified diff and exits 3 when anything differs; writes nothing."})
final class CheckCommand implements Callable<Integer> {
    @Mixin
    InventoryInput input;

    @Option(names = "--golden", required = true, paramLabel = "DIR", description = "The approved output directory.")
    Path golden;

    @Option(names = "--templates", paramLabel = "DIR", description = "Use templates from DIR instead of the bundled ones.")
    Path templates;

    @Option(names = "--no-verify", description = "Do not verify the compiled files (meshc verify's checks; a difference exits 70 as a bug in meshc)."
            + " Custom --templates are never verified.")
    boolean noVerify;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        // A typo would otherwise diff against nothing: every file "added".
        UsageError.unlessDirectory("--golden", golden, "does not exist; approve a first output with 'meshc compile INVENTORY -o " + golden + "'");
        Frontend.Result r = input.analyze(common);
        if (!r.ok()) return ExitCode.INVALID;
        List<FileChange> changes = Main.drift(r, golden, templates);
        int verified = noVerify || templates != null ? ExitCode.OK
                : SelfCheck.verify(r, null, r.plan().get().vms().keySet().stream().map(vm -> "hosts/" + vm + "/").toList(), null, Main.err());
        if (verified != ExitCode.OK) return verified;
        if (changes.isEmpty()) {
            if (!common.quiet) Main.err().println("meshc: " + golden + " is up to date");
            return ExitCode.OK;
        }
        Main.out().print(Drift.unifiedDiff(changes));
        Main.out().flush();
        if (!common.quiet) Main.err().println("meshc: " + golden + " differs in " + Reporter.plural(changes.size(), "file"));
        return ExitCode.DRIFT;
    }
}
