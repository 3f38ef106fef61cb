// Runs in the image as app.service (systemd restarts it if it fails).
Console.WriteLine($"DibImage.App started on {Environment.MachineName}");
using var stop = new CancellationTokenSource();
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
while (!stop.IsCancellationRequested)
{
    Console.WriteLine($"DibImage.App is running, {DateTime.UtcNow:O}");
    try
    {
        await Task.Delay(TimeSpan.FromMinutes(1), stop.Token);
    }
    catch (OperationCanceledException)
    {
    }
}
