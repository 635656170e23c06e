package dev.meshc.validate;

import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Inventory;
import java.util.List;

/**
 * The semantic layers of validation, after the schema: rules on single objects first, then rules
 * across objects (references, uniqueness, capacity). All run; none stops at the first problem.
 */
public final class InventoryValidator {
    private static List<Rule> rules(Unchecked unchecked) {
        return List.of(
                new NameRule(),
                new NetworkRule(),
                new VmRule(),
                new ReferenceRule(unchecked),
                new IndexRule(),
                new VipCapacityRule(),
                new EgressRule(),
                new SizeLimitRule());
    }

    private InventoryValidator() {
    }

    /** Returns true when no rule reported an error (warnings allowed). */
    public static boolean validate(Inventory inventory, Diagnostics diags) {
        return validate(inventory, diags, Unchecked.NONE);
    }

    /** Validates what the schema accepted; {@code unchecked} are the entries it refused, left out of the inventory. */
    public static boolean validate(Inventory inventory, Diagnostics diags, Unchecked unchecked) {
        int before = diags.errorCount();
        for (Rule r : rules(unchecked)) r.check(inventory, diags);
        return diags.errorCount() == before;
    }
}
