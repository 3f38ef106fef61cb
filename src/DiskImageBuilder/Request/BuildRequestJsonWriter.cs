using System.Text.Json.Serialization;

namespace DiskImageBuilder.Request;

/// <summary>
/// Writes the request file (<see cref="BuildRequest.ToJson"/>) with serialization code only: building
/// the readers' metadata (<see cref="BuildRequestJson"/>) compiled ~120 generic methods just in time in
/// every build, also a no-op one. The options are <see cref="BuildRequestJson"/>'s: the same file.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(BuildRequest))]
internal sealed partial class BuildRequestJsonWriter : JsonSerializerContext;
