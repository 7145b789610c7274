namespace Samsa.Broker.Configuration;

/// <summary>
/// A configuration value was refused. The message names the key, the offending value and what was expected,
/// so an operator can fix the file or the override without reading code.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message) : base(message)
    {
    }

    public ConfigException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The configuration key at fault, when there is one.</summary>
    public string? Name { get; init; }

    internal static ConfigException InvalidValue(string name, string? value, string expected) =>
        new($"Invalid value '{value}' for configuration {name}: {expected}") { Name = name };
}
