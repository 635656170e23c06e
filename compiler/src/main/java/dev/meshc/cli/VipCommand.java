package dev.meshc.cli;

import dev.meshc.model.Cidr;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Network;
import dev.meshc.model.VipRange;
import dev.meshc.plan.VipAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "vip", mixinStandardHelpOptions = true,
        description = {"Print the VIP of a relationship name (attempt 0, docs/design.md).",
                "Within one service a colliding name takes a later attempt; 'meshc explain' with an inventory shows the final VIPs."})
final class VipCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private picocli.CommandLine.ParameterException usage(String message) {
        return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
    }

    @Parameters(index = "0", paramLabel = "NAME", description = "Relationship name.")
    String name;

    @Option(names = "--range", paramLabel = "CIDR", description = "VIP range (default: ${DEFAULT-VALUE}).", converter = CidrConverter.class)
    Cidr range = Network.DEFAULT_VIP;

    @Option(names = "--reserved", paramLabel = "CIDR", description = "Reserved sub-range (repeatable; default: the contract's defaults for the range).", converter = CidrConverter.class)
    List<Cidr> reserved = new ArrayList<>();

    @Option(names = "--attempt", paramLabel = "N", description = "Attempt number (default: 0).")
    int attempt;

    @Override
    public Integer call() {
        if (!dev.meshc.model.Names.isDnsLabel(name)) { // no relationship can have it: its VIP would mislead
            throw usage("'" + name + "' is not a relationship name: a DNS label (lowercase a-z, 0-9 and '-', 1-63 characters,"
                    + " no '-' at either end)");
        }
        if (!range.isAligned()) throw usage("--range " + range + " has host bits set; did you mean " + range.aligned() + "?");
        VipRange usable = new VipRange(range, reserved.isEmpty() ? Network.defaultReserved(range) : reserved);
        if (usable.size() == 0) {
            throw usage("the range " + range + " has no usable address");
        }
        if (attempt < 0) throw usage("--attempt must be 0 or more");
        Main.out().println(Ipv4.format(VipAllocator.vip(usable, name, attempt)));
        Main.out().flush();
        return ExitCode.OK;
    }
}
