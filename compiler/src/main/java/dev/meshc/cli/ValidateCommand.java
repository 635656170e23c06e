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

    @Override
    public Integer call() throws Exception {
        Frontend.Result r = input.analyze(common);
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
