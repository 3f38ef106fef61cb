using System.IO.Compression;
using System.Runtime.Loader;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>The tasks as the SDK package ships them (ReadyToRun): what every build, also a no-op one, loads.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class PackedTasksTests
{
    [Fact]
    public void PrepareImage_runs_its_ReadyToRun_code_not_the_JIT()
    {
        using var dir = new TempDir();
        using (var package = ZipFile.OpenRead(PackedSample.Package))
        {
            foreach (var entry in package.Entries.Where(e => e.FullName.StartsWith("tools/net10.0/", StringComparison.Ordinal) && e.Name.EndsWith(".dll", StringComparison.Ordinal)))
            {
                entry.ExtractToFile(dir.Combine(entry.Name));
            }
        }

        // As MSBuild loads a task assembly: a context of its own, dependencies from beside it.
        var context = new AssemblyLoadContext("packed-tasks");
        context.Resolving += (c, name) => File.Exists(dir.Combine(name.Name + ".dll")) ? c.LoadFromAssemblyPath(dir.Combine(name.Name + ".dll")) : null;
        var type = context.LoadFromAssemblyPath(dir.Combine("DiskImageBuilder.Tasks.dll")).GetType("DiskImageBuilder.Tasks.PrepareImage")!;
        var properties = type.GetProperties().Where(p => p.PropertyType == typeof(string) && p.CanWrite).ToList();
        properties.Count.ShouldBeGreaterThan(20);

        var before = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true);
        var task = Activator.CreateInstance(type);
        foreach (var property in properties)
        {
            property.SetValue(task, "x");
            property.GetValue(task);
        }

        // A handful of reflection stubs (9); without the task's ReadyToRun code every accessor is
        // compiled too (64: MSBuild's assemblies missing from the ReadyToRun compiler's references).
        (System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true) - before).ShouldBeLessThan(properties.Count);
    }
}
