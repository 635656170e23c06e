package dev.meshc.cli;

import dev.meshc.load.InventorySchema;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "schema", mixinStandardHelpOptions = true,
        description = "Print the inventory JSON Schema (draft 2020-12) for editors and other tools.")
final class SchemaCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        Main.out().print(InventorySchema.text());
        Main.out().flush();
        return ExitCode.OK;
    }
}
