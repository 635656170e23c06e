package dev.meshc.cli;

import dev.meshc.plan.Frontend;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Check an inventory: YAML, schema, and every semantic rule. Writes nothing.",
                "Exit 0 if valid, 1 with one diagnostic per problem otherwise."})
final class ValidateCommand implements Callable<Integer> {
    @Mixin
    InventoryInput input;

    @Mixin
    CommonOptions common;

    @Option(names = "--target", paramLabel = "NAME=VERSION,...",
            description = {"Warn (T700) where the hosts' versions lack what the artifacts need, "
                    + "e.g. systemd=245,nftables=1.0.6,kernel=5.10,iproute2=6.1."})
    String target;

    @Override
    public Integer call() throws Exception {
        java.util.Map<String, int[]> versions = null;
        if (target != null) {
            StringBuilder why = new StringBuilder();
            versions = dev.meshc.validate.TargetCheck.parse(target, why);
            if (versions == null) throw new UsageError(why.toString());
        }
        Frontend.Result r = input.run();
        java.util.List<dev.meshc.diag.Diagnostic> all = new java.util.ArrayList<>(r.diagnostics());
        if (r.ok() && versions != null) {
            dev.meshc.diag.Diagnostics extra = new dev.meshc.diag.Diagnostics();
            dev.meshc.validate.TargetCheck.check(r.plan().get().inventory(), versions, extra);
            all.addAll(extra.sorted());
        }
        Main.report(common, input.inputs(), all, r.skipped());
        if (!r.ok()) return ExitCode.INVALID;
        if (!common.quiet && common.format == Reporter.Format.text) {
            var p = r.plan().get();
            Main.out().println(input.inventory + ": valid (" + Reporter.plural(p.vms().size(), "VM") + ", "
                    + Reporter.plural(p.inventory().services().size(), "service") + ", "
                    + Reporter.plural(p.containers().size(), "container") + ", "
                    + Reporter.plural(p.layout().capacity(), "container slot") + " per VM)");
        }
        return ExitCode.OK;
    }
}
