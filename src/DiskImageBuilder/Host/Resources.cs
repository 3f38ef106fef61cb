using System.Reflection;

namespace DiskImageBuilder.Host;

/// <summary>Shell snippets shipped inside the engine assembly.</summary>
internal static class Resources
{
    public static string Get(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Missing embedded resource {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
