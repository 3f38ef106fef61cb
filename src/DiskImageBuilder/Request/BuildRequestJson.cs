using System.Text.Json.Serialization;

namespace DiskImageBuilder.Request;

/// <summary>
/// The request file's JSON, generated at compile time: every build writes the request (PrepareImage),
/// also a no-op one, and reflection-based serialization cost ~0.1 s of it on first use.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BuildRequest))]
internal sealed partial class BuildRequestJson : JsonSerializerContext;
