package dev.meshc.validate;

import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Inventory;
import java.util.List;

/**
 * The semantic layers of validation, after the schema: rules on single objects first, then rules
 * across objects (references, uniqueness, capacity). All run; none stops at the first problem.
 */
public final class InventoryValidator {
    private static final List<Rule> RULES = List.of(
            new NameRule(),
            new NetworkRule(),
            new VmRule(),
            new ReferenceRule(),
            new IndexRule(),
            new VipCapacityRule(),
            new EgressRule(),
            new SizeLimitRule());

    private InventoryValidator() {
    }

    /** Returns true when no rule reported an error (warnings allowed). */
    public static boolean validate(Inventory inventory, Diagnostics diags) {
        int before = diags.errorCount();
        for (Rule r : RULES) r.check(inventory, diags);
        return diags.errorCount() == before;
    }
}
