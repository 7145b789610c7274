Console.WriteLine("samsa");
