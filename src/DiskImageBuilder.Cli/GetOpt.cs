namespace DiskImageBuilder.Cli;

/// <summary>A command-line mistake: reported with DIB0023 and GNU getopt's wording, exit 1, before any work.</summary>
public sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

public enum ArgumentKind
{
    None,
    Required,

    /// <summary>Only as --name=value, like getopt's "name::".</summary>
    Optional,
}

/// <summary>One option: a short letter and/or a long name.</summary>
public sealed record OptionSpec(char? Letter, string? LongName, ArgumentKind Argument = ArgumentKind.None)
{
    public string Key => LongName ?? Letter!.Value.ToString();
}

/// <summary>
/// GNU getopt's rules, which DIB's scripts use: combined short flags (-xu), a short option's value
/// attached or next (-otar, -o tar), --long=value or --long value, unambiguous long prefixes,
/// options and operands in any order, "--" ends options.
/// </summary>
public static class GetOpt
{
    public static (List<(OptionSpec Option, string? Value)> Options, List<string> Operands) Parse(IReadOnlyList<OptionSpec> specs, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(args);
        var options = new List<(OptionSpec, string?)>();
        var operands = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                operands.AddRange(args.Skip(i + 1));
                break;
            }

            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = arg.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? arg[2..] : arg[2..eq];
                var spec = FindLong(specs, name);
                if (eq >= 0)
                {
                    if (spec.Argument == ArgumentKind.None)
                    {
                        throw new UsageException($"option '--{spec.LongName}' doesn't allow an argument");
                    }

                    options.Add((spec, arg[(eq + 1)..]));
                }
                else if (spec.Argument == ArgumentKind.Required)
                {
                    options.Add((spec, ++i < args.Count ? args[i] : throw new UsageException($"option '--{spec.LongName}' requires an argument")));
                }
                else
                {
                    options.Add((spec, null));
                }
            }
            else if (arg.Length > 1 && arg[0] == '-')
            {
                for (var j = 1; j < arg.Length; j++)
                {
                    var spec = specs.FirstOrDefault(s => s.Letter == arg[j]) ?? throw new UsageException($"invalid option -- '{arg[j]}'");
                    if (spec.Argument != ArgumentKind.Required)
                    {
                        options.Add((spec, null));
                        continue;
                    }

                    var value = j + 1 < arg.Length ? arg[(j + 1)..] : ++i < args.Count ? args[i] : throw new UsageException($"option requires an argument -- '{arg[j]}'");
                    options.Add((spec, value));
                    break;
                }
            }
            else
            {
                operands.Add(arg);
            }
        }

        return (options, operands);
    }

    private static OptionSpec FindLong(IReadOnlyList<OptionSpec> specs, string name)
    {
        var exact = specs.FirstOrDefault(s => s.LongName == name);
        if (exact is not null)
        {
            return exact;
        }

        var matches = specs.Where(s => s.LongName is not null && name.Length > 0 && s.LongName.StartsWith(name, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new UsageException($"unrecognized option '--{name}'"),
            _ => throw new UsageException($"option '--{name}' is ambiguous; possibilities: {string.Join(' ', matches.Select(m => $"'--{m.LongName}'"))}"),
        };
    }
}
