var app = WebApplication.CreateBuilder(args).Build();
app.MapGet("/", () => "Hello from DiskImageBuilder web-vm");
app.Run();
