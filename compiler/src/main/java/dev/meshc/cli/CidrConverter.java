package dev.meshc.cli;

import dev.meshc.model.Cidr;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

final class CidrConverter implements ITypeConverter<Cidr> {
    @Override
    public Cidr convert(String value) {
        try {
            return Cidr.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("'" + value + "' is not an IPv4 CIDR like 169.254.0.0/16");
        }
    }
}
