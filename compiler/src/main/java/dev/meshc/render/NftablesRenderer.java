package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.List;
import java.util.Map;

/** {@code nftables/meshc.nft}: table {@code ip meshc}, replaced atomically by one {@code nft -f}. */
final class NftablesRenderer implements HostRenderer {
    @Override
    public List<Artifact> render(Plan plan, HostPlan host, Templates t) {
        return List.of(new Artifact("nftables/meshc.nft", t.bytes("nftables/meshc.nft.ftl", Map.of("host", host))));
    }
}
