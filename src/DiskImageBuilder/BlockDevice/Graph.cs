namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// The checks DIB makes on the configuration's graph, in its order: unique names, every `base` edge
/// defined, no cycle; then that each edge joins the right kinds of node. Returns the nodes in an order
/// where each comes after its bases (declaration order among equals).
/// </summary>
internal static class Graph
{
    public static IReadOnlyList<LayoutNode> Order(IReadOnlyList<LayoutNode> nodes)
    {
        var byName = new Dictionary<string, LayoutNode>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            if (!byName.TryAdd(node.Name, node))
            {
                throw new DibException(DibCodes.DuplicateBlockDeviceName, $"Duplicate node name: '{node.Name}' (first at {byName[node.Name].Where}). In the tree form a node without 'name' is called <plugin>_<base>: give one of them a name.", node.Where);
            }
        }

        foreach (var node in nodes)
        {
            foreach (var b in node.Bases.Where(b => !byName.ContainsKey(b)))
            {
                throw new DibException(DibCodes.BlockDeviceEdgeUndefined, $"Edge not defined: {b}->{node.Name}: '{node.Name}' ({node.Plugin}) names base '{b}', which no entry defines.", node.Where);
            }
        }

        var ordered = new List<LayoutNode>(nodes.Count);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var left = nodes.ToList();
        while (left.Count > 0)
        {
            var ready = left.FirstOrDefault(n => n.Bases.All(done.Contains));
            if (ready is null)
            {
                var cycle = Cycle(left[0], byName, left.Select(n => n.Name).ToHashSet(StringComparer.Ordinal));
                throw new DibException(DibCodes.BlockDeviceCycle, $"The base edges form a cycle: {string.Join(" -> ", cycle)}.", byName[cycle[0]].Where);
            }

            ordered.Add(ready);
            done.Add(ready.Name);
            left.Remove(ready);
        }

        foreach (var node in nodes)
        {
            CheckKinds(node, byName);
        }

        return ordered;
    }

    // Each node left after ordering has a base also left: following those must come back to a name seen.
    private static List<string> Cycle(LayoutNode start, Dictionary<string, LayoutNode> byName, HashSet<string> left)
    {
        var path = new List<string>();
        var node = start;
        while (!path.Contains(node.Name))
        {
            path.Add(node.Name);
            node = byName[node.Bases.First(left.Contains)];
        }

        var loop = path[path.IndexOf(node.Name)..];
        loop.Reverse();
        loop.Add(loop[0]);
        return loop;
    }

    private static void CheckKinds(LayoutNode node, Dictionary<string, LayoutNode> byName)
    {
        static bool BlockDevice(LayoutNode n) => n is LocalLoopNode or PartitionNode or LvmVolumeNode { Kind: LvmVolumeKind.LogicalVolume };
        var (ok, want) = node switch
        {
            MkfsNode m => (BlockDevice(byName[m.Base]), "a partition, logical volume or local_loop disk"),
            MountNode m => (byName[m.Base] is MkfsNode, "a mkfs node"),
            FstabNode f => (byName[f.Base] is MountNode, "a mount node"),
            PartitionNode p => (byName[p.Disk] is LocalLoopNode, "a local_loop disk (partition tables inside partitions or volumes are not made here)"),
            LvmVolumeNode { Kind: LvmVolumeKind.PhysicalVolume } pv => (pv.Bases.All(b => byName[b] is PartitionNode or LocalLoopNode), "a partition or local_loop disk"),
            _ => (true, string.Empty),
        };
        if (!ok)
        {
            var bad = node.Bases[0];
            throw new DibException(DibCodes.BlockDeviceEdgeUndefined, $"'{node.Name}' ({node.Plugin}) has base '{bad}' ({byName[bad].Plugin}), but its base must be {want}.", node.Where);
        }
    }
}
