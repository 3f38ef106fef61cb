namespace DiskImageBuilder;

public enum LogImportance
{
    High,
    Normal,
    Low,
}
