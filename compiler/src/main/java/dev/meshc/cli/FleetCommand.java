package dev.meshc.cli;

import dev.meshc.bench.FleetGenerator;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "fleet", mixinStandardHelpOptions = true,
        description = {"Write a deterministic synthetic inventory for benchmarks:",
                "S (10 VMs, 200 containers), M (200, 10,000), L (1,000, 50,000; 5,000 services), XL (2,000, 100,000)."})
final class FleetCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SIZE", description = "S, M, L or XL.")
    FleetGenerator.Size size;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "Inventory file to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            FleetGenerator.write(size, w);
        }
        return ExitCode.OK;
    }
}
