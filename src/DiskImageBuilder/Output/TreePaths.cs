namespace DiskImageBuilder.Output;

/// <summary>Paths inside an image tree read from the host: symbolic links resolve inside the tree, never to the host's files.</summary>
internal static class TreePaths
{
    /// <summary>The host path of the regular file at <paramref name="relative"/> in the tree, following links within it; null when there is none.</summary>
    public static string? Resolve(string tree, string relative)
    {
        var parts = new List<string>();
        var pending = new Stack<string>(relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        for (var hops = 0; pending.Count > 0; )
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            var host = Path.Combine(tree, Path.Combine([.. parts, part]));
            var target = new FileInfo(host).LinkTarget;
            if (target is null)
            {
                parts.Add(part);
                continue;
            }

            if (++hops > 40)
            {
                return null;
            }

            if (target.StartsWith('/'))
            {
                parts.Clear();
            }

            foreach (var step in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(step);
            }
        }

        var path = Path.Combine(tree, Path.Combine([.. parts]));
        return File.Exists(path) ? path : null;
    }
}
